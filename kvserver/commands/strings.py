"""String commands."""

from __future__ import annotations

from kvserver.resp import OK
from kvserver.table import command


@command("get", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string", since="1.0.0",
         summary="Returns the string value of a key.", complexity="O(1)", args="key")
def get(c, argv):
    return c.db.lookup_read(argv[1], bytes)


@command("set", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string", since="1.0.0",
         summary="Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
         complexity="O(1)", args="key value")
def set_(c, argv):
    c.db.set(argv[1], argv[2])
    return OK
