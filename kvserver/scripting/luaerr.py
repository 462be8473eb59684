"""Errors raised by Python functions that scripts call.

Functions of the `redis` table and of the bundled libraries are Python
callables, which Lua sees as C functions (so `return redis.call(...)` keeps
the caller's frame, as with Redis's C functions). When one fails it raises
LuaRaise; lupa hands the exception to Lua as the error value, and the
prelude's handlers turn it into the error Redis's C code would raise, with
the position and function name taken from the Lua stack at that moment.
"""

from __future__ import annotations

TABLE, ARG, ERROR, PLAIN = 1, 2, 3, 4


class LuaRaise(Exception):
    """kind TABLE: {err=a, ignore_error_stats_update=b}; ARG: luaL_argerror(a, b);
    ERROR: luaL_error(a) (positioned at the caller); PLAIN: the string a."""

    __slots__ = ("kind", "a", "b")

    def __init__(self, kind: int, a, b=None) -> None:
        self.kind = kind
        self.a = a
        self.b = b

    def __str__(self) -> str:
        a = self.a.decode("utf-8", "replace") if isinstance(self.a, bytes) else str(self.a)
        return a


def _b(s: str | bytes) -> bytes:
    return s if isinstance(s, bytes) else s.encode("utf-8", "surrogateescape")


def table_error(text: str | bytes, ignore: bool = False) -> LuaRaise:
    """luaPushError + luaError: an error table (text already "CODE msg")."""
    return LuaRaise(TABLE, _b(text), ignore)


def arg_error(narg: int, msg: str | bytes) -> LuaRaise:
    return LuaRaise(ARG, narg, _b(msg))


def lua_error(msg: str | bytes) -> LuaRaise:
    return LuaRaise(ERROR, _b(msg))


def plain_error(msg: str | bytes) -> LuaRaise:
    return LuaRaise(PLAIN, _b(msg))


def errinfo(e):
    """For the prelude: (kind, a, b) of a LuaRaise, or None for anything else."""
    if isinstance(e, LuaRaise):
        return e.kind, e.a, e.b
    return None
