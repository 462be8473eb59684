"""The `cjson` library Redis bundles (lua-cjson 2.1.0, Redis's copy).

Encoding walks tables in Lua's own iteration order (lupa iterates with
lua_next) and applies cjson's rules: a table whose keys are all positive
integers is an array unless excessively sparse, an empty table is an object,
numbers use %.14g, '/' is escaped. Decoding follows lua_cjson.c's tokenizer:
the input ends at its first NUL byte, numbers go through strtod (hex, inf
and nan pass with decode_invalid_numbers on, Redis's default), errors name
the expected and found token and the 1-based character position; tables are
built in document order, as lua_rawset/lua_rawseti would.

Each cjson module (the global one, or one from cjson.new()) has its own
configuration, which persists between scripts as it does in Redis (until
SCRIPT FLUSH).
"""

from __future__ import annotations

import math

import lupa.lua51 as lupa

from kvserver.scripting.libs.cnum import fmt_number, lua_typename, strtod, tonumber
from kvserver.scripting.luaerr import arg_error, lua_error

INT_MAX = 2**31 - 1
_lua_type = lupa.lua_type


class CjsonNull:
    """cjson.null: a NULL light userdata in Redis."""

    __slots__ = ()

    def __str__(self) -> str:
        return "userdata: (nil)"


NULL = CjsonNull()

_ESC = {i: b"\\u%04x" % i for i in range(32)}
_ESC.update({ord('"'): b'\\"', ord("\\"): b"\\\\", ord("/"): b"\\/", 8: b"\\b",
             9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r", 127: b"\\u007f"})
_ESC_TABLE = {i: v.decode("latin-1") for i, v in _ESC.items()}


def _escape(s: bytes) -> bytes:
    return b'"' + s.decode("latin-1").translate(_ESC_TABLE).encode("latin-1") + b'"'

_TOKEN_NAMES = ("T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
                "T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END",
                "T_WHITESPACE", "T_ERROR", "T_UNKNOWN")
(T_OBJ_BEGIN, T_OBJ_END, T_ARR_BEGIN, T_ARR_END, T_STRING, T_NUMBER, T_BOOLEAN, T_NULL,
 T_COLON, T_COMMA, T_END, T_WHITESPACE, T_ERROR, T_UNKNOWN) = range(14)

_CH2TOKEN = [T_ERROR] * 256
for _c, _t in ((b"{", T_OBJ_BEGIN), (b"}", T_OBJ_END), (b"[", T_ARR_BEGIN),
               (b"]", T_ARR_END), (b",", T_COMMA), (b":", T_COLON), (b"\0", T_END),
               (b" ", T_WHITESPACE), (b"\t", T_WHITESPACE), (b"\n", T_WHITESPACE),
               (b"\r", T_WHITESPACE)):
    _CH2TOKEN[_c[0]] = _t
for _c in b"fiInNt\"+-0123456789":
    _CH2TOKEN[_c] = T_UNKNOWN

_ESCAPES = {ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b",
            ord("t"): b"\t", ord("n"): b"\n", ord("f"): b"\f", ord("r"): b"\r"}


class _ParseError(Exception):
    pass


def _hex4(data: bytes, pos: int) -> int:
    h = data[pos:pos + 4]
    if len(h) < 4:
        return -1
    try:
        if not all(c in b"0123456789abcdefABCDEF" for c in h):
            return -1
        return int(h, 16)
    except ValueError:
        return -1


def _utf8(cp: int) -> bytes:
    if cp <= 0x7F:
        return bytes((cp,))
    if cp <= 0x7FF:
        return bytes(((cp >> 6) | 0xC0, (cp & 0x3F) | 0x80))
    if cp <= 0xFFFF:
        return bytes(((cp >> 12) | 0xE0, ((cp >> 6) & 0x3F) | 0x80, (cp & 0x3F) | 0x80))
    return bytes(((cp >> 18) | 0xF0, ((cp >> 12) & 0x3F) | 0x80, ((cp >> 6) & 0x3F) | 0x80,
                  (cp & 0x3F) | 0x80))


class _Decoder:
    __slots__ = ("data", "pos", "depth", "max_depth", "invalid_numbers", "new_table", "null")

    def __init__(self, data: bytes, max_depth: int, invalid_numbers: bool, new_table,
                 null) -> None:
        nul = data.find(b"\0")
        self.data = data + b"\0" if nul == -1 else data[:nul + 1]
        self.pos = 0
        self.depth = 0
        self.max_depth = max_depth
        self.invalid_numbers = invalid_numbers
        self.new_table = new_table
        self.null = null

    # A token is (type, index, value); value is the error text for T_ERROR.
    def next_token(self):
        data = self.data
        while True:
            ch = data[self.pos]
            tt = _CH2TOKEN[ch]
            if tt != T_WHITESPACE:
                break
            self.pos += 1
        index = self.pos
        if tt == T_ERROR:
            return T_ERROR, index, "invalid token"
        if tt == T_END:
            return T_END, index, None
        if tt != T_UNKNOWN:
            self.pos += 1
            return tt, index, None
        if ch == 34:
            return self.string_token(index)
        if ch == 45 or 48 <= ch <= 57:
            if not self.invalid_numbers and self.is_invalid_number():
                return T_ERROR, self.pos, "invalid number"
            return self.number_token(index)
        if data.startswith(b"true", self.pos):
            self.pos += 4
            return T_BOOLEAN, index, True
        if data.startswith(b"false", self.pos):
            self.pos += 5
            return T_BOOLEAN, index, False
        if data.startswith(b"null", self.pos):
            self.pos += 4
            return T_NULL, index, None
        if self.invalid_numbers and self.is_invalid_number():
            return self.number_token(index)
        return T_ERROR, self.pos, "invalid token"

    def is_invalid_number(self) -> bool:
        data, p = self.data, self.pos
        if data[p] == 43:  # '+'
            return True
        if data[p] == 45:
            p += 1
        if data[p] == 48:
            ch2 = data[p + 1] if p + 1 < len(data) else 0
            return (ch2 | 0x20) == 0x78 or 48 <= ch2 <= 57
        if data[p] <= 57:
            return False
        head = data[p:p + 3].lower()
        return head in (b"inf", b"nan")

    def number_token(self, index: int):
        value, end = strtod(self.data, self.pos)
        if end == self.pos:
            return T_ERROR, self.pos, "invalid number"
        self.pos = end
        return T_NUMBER, index, value

    def string_token(self, index: int):
        data = self.data
        self.pos += 1
        out = bytearray()
        while True:
            ch = data[self.pos]
            if ch == 34:
                break
            if ch == 0:
                return T_ERROR, self.pos, "unexpected end of string"
            if ch == 92:
                esc = data[self.pos + 1]
                if esc == 117:  # 'u'
                    cp = _hex4(data, self.pos + 2)
                    escape_len = 6
                    if cp < 0:
                        return T_ERROR, self.pos, "invalid unicode escape code"
                    if (cp & 0xF800) == 0xD800:
                        if cp & 0x400:
                            return T_ERROR, self.pos, "invalid unicode escape code"
                        if data[self.pos + 6:self.pos + 8] != b"\\u":
                            return T_ERROR, self.pos, "invalid unicode escape code"
                        low = _hex4(data, self.pos + 8)
                        if low < 0 or (low & 0xFC00) != 0xDC00:
                            return T_ERROR, self.pos, "invalid unicode escape code"
                        cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
                        escape_len = 12
                    out += _utf8(cp)
                    self.pos += escape_len
                    continue
                rep = _ESCAPES.get(esc)
                if rep is None:
                    return T_ERROR, self.pos, "invalid escape code"
                out += rep
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1
        self.pos += 1
        return T_STRING, index, bytes(out)

    def fail(self, expected: str, token) -> None:
        tt, index, value = token
        found = value if tt == T_ERROR else _TOKEN_NAMES[tt]
        raise _ParseError(f"Expected {expected} but found {found} at character {index + 1}")

    def descend(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise _ParseError(f"Found too many nested data structures ({self.depth}) at "
                              f"character {self.pos}")

    def parse(self):
        """The value at the start of the input (iterative: nesting is bounded
        by decode_max_depth only)."""
        stack: list[list] = []  # [table, is_object, key or next index]
        token = self.next_token()
        while True:
            tt = token[0]
            if tt == T_STRING or tt == T_NUMBER or tt == T_BOOLEAN:
                v = token[2]
            elif tt == T_NULL:
                v = self.null
            elif tt == T_OBJ_BEGIN or tt == T_ARR_BEGIN:
                self.descend()
                t = self.new_table()
                token = self.next_token()
                if token[0] == (T_OBJ_END if tt == T_OBJ_BEGIN else T_ARR_END):
                    self.depth -= 1
                    v = t
                elif tt == T_OBJ_BEGIN:
                    stack.append([t, True, self.key(token)])
                    token = self.next_token()
                    continue
                else:
                    stack.append([t, False, 1])
                    continue
            else:
                self.fail("value", token)
            # v is complete: store it in its container, climbing while they end
            while True:
                if not stack:
                    return v
                frame = stack[-1]
                t = frame[0]
                t[frame[2]] = v
                token = self.next_token()
                if frame[1]:
                    if token[0] == T_OBJ_END:
                        self.depth -= 1
                        stack.pop()
                        v = t
                        continue
                    if token[0] != T_COMMA:
                        self.fail("comma or object end", token)
                    frame[2] = self.key(self.next_token())
                else:
                    if token[0] == T_ARR_END:
                        self.depth -= 1
                        stack.pop()
                        v = t
                        continue
                    if token[0] != T_COMMA:
                        self.fail("comma or array end", token)
                    frame[2] += 1
                token = self.next_token()
                break

    def key(self, token) -> bytes:
        """An object key and the colon after it."""
        if token[0] != T_STRING:
            self.fail("object key string", token)
        colon = self.next_token()
        if colon[0] != T_COLON:
            self.fail("colon", colon)
        return token[2]


class _EncodeError(Exception):
    pass


class Config:
    """One cjson module's settings (json_config_t)."""

    def __init__(self) -> None:
        self.sparse_convert = 0
        self.sparse_ratio = 2
        self.sparse_safe = 10
        self._encode_max_depth = 1000
        self._decode_max_depth = 1000
        self._encode_invalid_numbers = 0
        self._decode_invalid_numbers = 1
        self._encode_keep_buffer = 1
        self.precision = 14

    # -- encoding ---------------------------------------------------------------------

    def encode(self, *args):
        if len(args) != 1:
            raise arg_error(1, "expected 1 argument")
        out: list[bytes] = []
        try:
            self._value(args[0], 0, out)
        except _EncodeError as e:
            raise lua_error(str(e)) from None
        return b"".join(out)

    def _number(self, v) -> bytes:
        inv = self._encode_invalid_numbers
        if v.__class__ is float and (v != v or v in (math.inf, -math.inf)):
            if inv == 0:
                raise _EncodeError("Cannot serialise number: must not be NaN or Inf")
            if inv == 1:
                if v != v:
                    return b"nan"
            else:
                return b"null"
        if v.__class__ is int and self.precision == 14 and -10**14 < v < 10**14:
            return b"%d" % v
        return b"%.*g" % (self.precision, float(v))

    def _value(self, v, depth: int, out: list) -> None:
        t = v.__class__
        if t is bytes:
            out.append(_escape(v))
        elif t is int or t is float:
            out.append(self._number(v))
        elif t is bool:
            out.append(b"true" if v else b"false")
        elif v is None or v is NULL:
            out.append(b"null")
        else:
            lt = _lua_type(v)
            if lt != "table":
                raise _EncodeError("Cannot serialise %s: type not supported" % (lt or "userdata"))
            depth += 1
            if depth > self._encode_max_depth or depth * 3 > 7990:
                raise _EncodeError(f"Cannot serialise, excessive nesting ({depth})")
            items = list(v.items())
            n = self._array_length(items)
            if n > 0:
                vals = dict(items)
                out.append(b"[")
                for i in range(1, n + 1):
                    if i > 1:
                        out.append(b",")
                    self._value(vals.get(i), depth, out)
                out.append(b"]")
                return
            out.append(b"{")
            for j, (k, x) in enumerate(items):
                if j:
                    out.append(b",")
                kt = k.__class__
                if kt is int or kt is float:
                    out.append(b'"' + self._number(k) + b'":')
                elif kt is bytes:
                    out.append(_escape(k) + b":")
                else:
                    raise _EncodeError(f"Cannot serialise {lua_typename(k)}: table key must be a number or string")
                self._value(x, depth, out)
            out.append(b"}")

    def _array_length(self, items) -> int:
        mx = 0
        count = 0
        for k, _ in items:
            kt = k.__class__
            if (kt is int and k >= 1) or (kt is float and k >= 1 and k != math.inf
                                          and k == int(k)):
                if k > mx:
                    mx = k
                count += 1
                continue
            return -1
        if self.sparse_ratio > 0 and mx > count * self.sparse_ratio and mx > self.sparse_safe:
            if not self.sparse_convert:
                raise _EncodeError("Cannot serialise table: excessively sparse array")
            return -1
        return int(mx)

    # -- decoding ---------------------------------------------------------------------

    def decode(self, *args):
        if len(args) != 1:
            raise arg_error(1, "expected 1 argument")
        s = args[0]
        if s.__class__ is int or s.__class__ is float:
            s = fmt_number(s)
        if s.__class__ is not bytes:
            raise arg_error(1, "string expected, got " + lua_typename(s))
        if len(s) >= 2 and (s[0] == 0 or s[1] == 0):
            raise lua_error("JSON parser does not support UTF-16 or UTF-32")
        d = _Decoder(s, self._decode_max_depth, bool(self._decode_invalid_numbers),
                     self.new_table, NULL)
        try:
            v = d.parse()
            token = d.next_token()
            if token[0] != T_END:
                d.fail("the end", token)
        except _ParseError as e:
            raise lua_error(str(e)) from None
        return v

    new_table = None  # set per runtime

    # -- configuration (json_arg_init, json_integer_option, json_enum_option) ---------

    def _arg_init(self, args, n: int) -> None:
        if len(args) > n:
            raise arg_error(n + 1, "found too many arguments")

    def _int_option(self, args, i: int, name: str, lo: int, hi: int):
        if len(args) >= i and args[i - 1] is not None:
            v = tonumber(args[i - 1])
            if v is None:
                raise arg_error(i, "number expected, got " + lua_typename(args[i - 1]))
            v = _c_integer(v)
            if not lo <= v <= hi:
                raise arg_error(1, f"expected integer between {lo} and {hi}")
            setattr(self, name, v)
        return getattr(self, name)

    def _enum_option(self, args, i: int, name: str, options: tuple):
        if len(args) >= i and args[i - 1] is not None:
            v = args[i - 1]
            if v.__class__ is bool:
                setattr(self, name, 1 if v else 0)
            else:
                if v.__class__ is int or v.__class__ is float:
                    v = fmt_number(v)
                if v.__class__ is not bytes:
                    raise arg_error(i, "string expected, got " + lua_typename(v))
                if v not in options:
                    raise arg_error(i, "invalid option '{}'".format(v.decode("utf-8", "replace")))
                setattr(self, name, options.index(v))
        s = getattr(self, name)
        if s in (0, 1):
            return s == 1
        return options[s]

    def encode_sparse_array(self, *args):
        self._arg_init(args, 3)
        return (self._enum_option(args, 1, "sparse_convert", (b"off", b"on")),
                self._int_option(args, 2, "sparse_ratio", 0, INT_MAX),
                self._int_option(args, 3, "sparse_safe", 0, INT_MAX))

    def encode_max_depth(self, *args):
        self._arg_init(args, 1)
        return self._int_option(args, 1, "_encode_max_depth", 1, INT_MAX)

    def decode_max_depth(self, *args):
        self._arg_init(args, 1)
        return self._int_option(args, 1, "_decode_max_depth", 1, INT_MAX)

    def encode_number_precision(self, *args):
        self._arg_init(args, 1)
        return self._int_option(args, 1, "precision", 1, 14)

    def encode_keep_buffer(self, *args):
        self._arg_init(args, 1)
        return self._enum_option(args, 1, "_encode_keep_buffer", (b"off", b"on"))

    def encode_invalid_numbers(self, *args):
        self._arg_init(args, 1)
        return self._enum_option(args, 1, "_encode_invalid_numbers", (b"off", b"on", b"null"))

    def decode_invalid_numbers(self, *args):
        self._arg_init(args, 1)
        return self._enum_option(args, 1, "_decode_invalid_numbers", (b"off", b"on"))


def _c_integer(v) -> int:
    """(int) of lua_Integer of a number: truncation, then the low 32 bits."""
    if v.__class__ is float:
        v = int(v) if v == v and abs(v) < 2**63 else -2**63
    v &= 0xFFFFFFFF
    return v - 2**32 if v >= 2**31 else v


_FUNCS = ("encode", "decode", "encode_sparse_array", "encode_max_depth", "decode_max_depth",
          "encode_number_precision", "encode_keep_buffer", "encode_invalid_numbers",
          "decode_invalid_numbers")


def module(rt) -> dict:
    """A fresh cjson module (its functions share one configuration)."""
    cfg = Config()
    cfg.new_table = rt.table
    m = {name.encode(): getattr(cfg, name) for name in _FUNCS}
    m[b"new"] = lambda *args: rt.table_from(module(rt))
    m[b"null"] = NULL
    m[b"_NAME"] = b"cjson"
    m[b"_VERSION"] = b"2.1.0"
    return m
