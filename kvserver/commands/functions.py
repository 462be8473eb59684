"""FUNCTION (Redis 7 functions).

Only FLUSH exists so far: with no FUNCTION LOAD yet (it arrives with Lua
scripting), the library is always empty, and flushing it is exactly Redis's
behaviour. The Redis test suite's harness sends FUNCTION FLUSH before every
test.
"""

from __future__ import annotations

from kvserver import errors
from kvserver.errors import CommandError
from kvserver.resp import OK
from kvserver.table import container, subcommand

FUNCTION = container("function", group="scripting", since="7.0.0",
                     summary="A container for function commands")


@subcommand(FUNCTION, "flush", arity=-2, flags="write noscript", since="7.0.0",
            summary="Deleting all functions",
            complexity="O(N) where N is the number of functions deleted",
            args="[ASYNC|SYNC]", tips="request_policy:all_shards response_policy:all_succeeded")
def function_flush(c, argv):
    if len(argv) > 3:
        raise errors.subcommand_syntax(argv[1], "function")
    if len(argv) == 3 and argv[2].lower() not in (b"async", b"sync"):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    return OK
