"""The libraries Redis bundles with its Lua: cjson, cmsgpack, bit, struct.

They are written in Python; Lua sees their functions as C functions
(Python callables), as it sees Redis's. Errors are raised as
kvserver.scripting.luaerr.LuaRaise and turned into Redis's Lua errors by the
prelude.
"""

from __future__ import annotations

from kvserver.scripting.libs import bitlib, cjson, cmsgpack, structlib


def tables(rt) -> dict:
    """name -> Lua table of the library's functions and fields."""
    return {
        b"cjson": rt.table_from(cjson.module(rt)),
        b"bit": rt.table_from(bitlib.make()),
        b"struct": rt.table_from(structlib.make()),
        b"cmsgpack": rt.table_from({**cmsgpack.make(rt), **cmsgpack.META}),
    }
