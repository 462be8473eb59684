"""Redis 7 functions: libraries of Lua functions (FUNCTION LOAD / FCALL).

A library is the code given to FUNCTION LOAD: a `#!lua name=<lib>` line,
then Lua code that calls redis.register_function while it loads. Libraries
are looked up by exact name, functions by name without regard to case
(Redis's dict types). Loading is all or nothing: a library whose code fails,
registers nothing, or whose functions collide with another library's leaves
the existing ones as they were.

FUNCTION DUMP's payload is the one Redis makes: for each library the RDB
opcode FUNCTION2 and the library code as an RDB string (we write it
uncompressed), then the RDB version (10) and a CRC64 of all that. RESTORE
also reads LZF-compressed strings, so Redis's own payloads restore here.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from kvserver import rdb
from kvserver.protocol import split_args
from kvserver.scripting.libs.cnum import fmt_number
from kvserver.scripting.luaerr import table_error
from kvserver.scripting.state import FLAG_BITS

if TYPE_CHECKING:
    from kvserver.scripting.state import Scripting

LOAD_TIMEOUT_S = 0.5
_NAME_OK = re.compile(rb"[A-Za-z0-9_]+\Z")
NAME_ERROR = ("Library names can only contain letters, numbers, or underscores(_) and must be "
              "at least one character long")
RDB_OPCODE_FUNCTION2 = 245
RDB_OPCODE_FUNCTION_PRE_GA = 246


class FunctionError(Exception):
    """A FUNCTION command's error (the text after "ERR ")."""


class Function:
    __slots__ = ("name", "fn", "desc", "flags", "library")

    def __init__(self, name: bytes, fn, desc: bytes | None, flags: int, library: Library):
        self.name = name
        self.fn = fn
        self.desc = desc
        self.flags = flags
        self.library = library


class Library:
    __slots__ = ("name", "code", "functions")

    engine = b"LUA"

    def __init__(self, name: bytes, code: bytes) -> None:
        self.name = name
        self.code = code
        self.functions: dict[bytes, Function] = {}


class Libraries:
    """The loaded libraries and the functions they registered."""

    def __init__(self) -> None:
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}  # lower-case name -> function

    def link(self, lib: Library) -> None:
        self.libraries[lib.name] = lib
        for f in lib.functions.values():
            self.functions[f.name.lower()] = f

    def unlink(self, lib: Library) -> None:
        del self.libraries[lib.name]
        for f in lib.functions.values():
            if self.functions.get(f.name.lower()) is f:
                del self.functions[f.name.lower()]

    def collision(self, lib: Library) -> bytes | None:
        for f in lib.functions.values():
            if f.name.lower() in self.functions:
                return f.name
        return None

    def join(self, other: Libraries, replace: bool) -> None:
        """Add other's libraries (libraryJoin); all or nothing."""
        replaced = []
        try:
            for lib in other.libraries.values():
                old = self.libraries.get(lib.name)
                if old is not None:
                    if not replace:
                        raise FunctionError(f"Library {_s(lib.name)} already exists")
                    self.unlink(old)
                    replaced.append(old)
            for lib in other.libraries.values():
                name = self.collision(lib)
                if name is not None:
                    raise FunctionError(f"Function {_s(name)} already exists")
        except FunctionError:
            for old in replaced:
                self.link(old)
            raise
        for lib in other.libraries.values():
            self.link(lib)

    @property
    def function_count(self) -> int:
        return sum(len(lib.functions) for lib in self.libraries.values())


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _c(b: bytes) -> bytes:
    nul = b.find(b"\0")
    return b if nul == -1 else b[:nul]


def parse_metadata(code: bytes) -> tuple[bytes, bytes, bytes]:
    """(engine, library name, code after the shebang line) of a library."""
    if not code.startswith(b"#!"):
        raise FunctionError("Missing library metadata")
    nl = code.find(b"\n")
    nul = code.find(b"\0")
    if nl == -1 or -1 < nul < nl:  # strchr() stops at a NUL byte
        raise FunctionError("Invalid library metadata")
    parts = split_args(code[:nl])
    if not parts:
        raise FunctionError("Invalid library metadata")
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise FunctionError("Invalid metadata value, name argument was given "
                                    "multiple times")
            name = part[5:]
            continue
        raise FunctionError(f"Invalid metadata value given: {_s(_c(part))}")
    if name is None:
        raise FunctionError("Library name was not given")
    return engine, name, code[nl:]


class _Loader:
    """redis.register_function's side while a library loads."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib

    def register(self, args: tuple) -> None:
        import lupa.lua51 as lupa

        def fail(msg: str):
            raise table_error(b"ERR " + msg.encode())

        def as_string(v) -> bytes | None:
            if v.__class__ is bytes:
                return v
            if v.__class__ is int or v.__class__ is float:
                return fmt_number(v)
            return None

        def is_function(v) -> bool:
            return v is not None and v.__class__ not in (bytes, int, float, bool) \
                and lupa.lua_type(v) == "function"

        if not 1 <= len(args) <= 2:
            fail("wrong number of arguments to redis.register_function")
        name = desc = fn = None
        flags = 0
        if len(args) == 1:
            t = args[0]
            if t is None or t.__class__ in (bytes, int, float, bool) or \
                    lupa.lua_type(t) != "table":
                fail("calling redis.register_function with a single argument is only "
                     "applicable to Lua table (representing named arguments).")
            for k, v in t.items():
                key = as_string(k)
                if key is None:
                    fail("named argument key given to redis.register_function is not a string")
                key = _c(key).lower()
                if key == b"function_name":
                    name = as_string(v)
                    if name is None:
                        fail("function_name argument given to redis.register_function must "
                             "be a string")
                elif key == b"description":
                    desc = as_string(v)
                    if desc is None:
                        fail("description argument given to redis.register_function must be "
                             "a string")
                elif key == b"callback":
                    if not is_function(v):
                        fail("callback argument given to redis.register_function must be a "
                             "function")
                    fn = v
                elif key == b"flags":
                    if v is None or v.__class__ in (bytes, int, float, bool) or \
                            lupa.lua_type(v) != "table":
                        fail("flags argument to redis.register_function must be a table "
                             "representing function flags")
                    flags = 0
                    j = 1
                    while True:
                        f = v[j]
                        if f is None:
                            break
                        fs = as_string(f)
                        bit = FLAG_BITS.get(_c(fs).lower()) if fs is not None else None
                        if bit is None:
                            fail("unknown flag given")
                        flags |= bit
                        j += 1
                else:
                    fail("unknown argument given to redis.register_function")
            if name is None:
                fail("redis.register_function must get a function name argument")
            if fn is None:
                fail("redis.register_function must get a callback argument")
        else:
            name = as_string(args[0])
            if name is None:
                fail("first argument to redis.register_function must be a string")
            if not is_function(args[1]):
                fail("second argument to redis.register_function must be a function")
            fn = args[1]
        if not _NAME_OK.match(name):
            fail(NAME_ERROR)
        if name in self.lib.functions:
            fail("Function already exists in the library")
        self.lib.functions[name] = Function(name, fn, desc, flags, self.lib)


def create_library(st: Scripting, code: bytes, replace: bool, libs: Libraries,
                   timeout: float = LOAD_TIMEOUT_S) -> bytes:
    """functionsCreateWithLibraryCtx: load code into libs; the library name."""
    engine_name, name, body = parse_metadata(code)
    if not _NAME_OK.match(name):
        raise FunctionError(NAME_ERROR)
    if engine_name.lower() != b"lua":
        raise FunctionError(f"Engine '{_s(engine_name)}' not found")
    old = libs.libraries.get(name)
    if old is not None and not replace:
        raise FunctionError(f"Library '{_s(name)}' already exists")
    if old is not None:
        libs.unlink(old)
    try:
        lib = Library(name, code)
        engine = st.function_engine
        engine.loader = _Loader(lib)
        st.load_deadline = time.monotonic() + timeout if timeout else 0.0
        try:
            r = engine.load_library(body)
        finally:
            engine.loader = None
            st.load_deadline = 0.0
        if not r[0]:
            stage, msg = r[1], r[2]
            msg = _s(msg) if msg is not None else "?"
            if stage == b"compile":
                raise FunctionError(f"Error compiling function: {msg}")
            raise FunctionError(f"Error registering functions: {msg}")
        if not lib.functions:
            raise FunctionError("No functions registered")
        clash = libs.collision(lib)
        if clash is not None:
            raise FunctionError(f"Function {_s(clash)} already exists")
    except FunctionError:
        if old is not None:
            libs.link(old)
        raise
    libs.link(lib)
    return name


# -- DUMP / RESTORE ------------------------------------------------------------------

def dump(libs: Libraries) -> bytes:
    out = bytearray()
    for lib in libs.libraries.values():
        out.append(RDB_OPCODE_FUNCTION2)
        rdb.write_string(out, lib.code)
    return rdb.with_footer(out)


def _load_string(r: rdb.Reader, error: str) -> bytes:
    try:
        return r.string()
    except rdb.BadData:
        raise FunctionError(error) from None


def restore(st: Scripting, payload: bytes) -> Libraries:
    """The libraries in a DUMP payload (not linked anywhere yet)."""
    if not rdb.payload_is_valid(payload):
        raise FunctionError("DUMP payload version or checksum are wrong")
    new = Libraries()
    r = rdb.Reader(payload)  # strings may run into the footer, as in Redis
    end = len(payload) - 10
    while r.pos < end:
        t = r.byte()
        if t == RDB_OPCODE_FUNCTION2:
            code = _load_string(r, "Failed loading library payload")
        elif t == RDB_OPCODE_FUNCTION_PRE_GA:
            # the format of 7.0 RC1/RC2: name, engine, optional description, code
            name = _load_string(r, "Failed loading library name")
            engine = _load_string(r, "Failed loading engine name")
            try:
                has_desc = r.length()[0]
            except rdb.BadData:
                raise FunctionError("Failed loading library description indicator") from None
            if has_desc:
                _load_string(r, "Failed loading library description")
            blob = _load_string(r, "Failed loading library blob")
            code = b"#!%s name=%s\n%s" % (_c(engine), _c(name), blob)
        else:
            raise FunctionError("given type is not a function")
        create_library(st, code, False, new, timeout=0)
    return new
