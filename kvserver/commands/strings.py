"""String commands (Redis's t_string.c).

Values are immutable `bytes`, so commands that edit a string (APPEND,
SETRANGE, INCR...) store a new bytes object; an edit keeps the key's TTL,
as Redis's in-place edits and dbOverwrite do. GET and plain SET are the
hottest commands of all: GET is one keyspace call, and SET with no options
takes a fast path before any option parsing.

INCRBYFLOAT computes in x87 80-bit long double, as Redis does on x86-64:
`strtold` parsing, long double addition and `%.17Lf` formatting are
emulated exactly with integers (see `_ld_*`), because the results differ
visibly from double arithmetic (1.1 + 3e5 is "300001.09999999999999432").
"""

from __future__ import annotations

import re
from fractions import Fraction

from kvserver import errors
from kvserver.args import LLONG_MAX, LLONG_MIN, to_int
from kvserver.errors import CommandError
from kvserver.protocol import string2ll
from kvserver.resp import OK
from kvserver.table import command

# -- helpers shared with bitops ------------------------------------------------


def string_encoding(value: bytes) -> str:
    """What OBJECT ENCODING reports for a string value (tryObjectEncoding)."""
    n = len(value)
    if n <= 20 and string2ll(value) is not None:
        return "int"
    return "embstr" if n <= 44 else "raw"


def must_obey(c) -> bool:
    """Redis's mustObeyClient: the link to our primary is never refused."""
    return c.is_replica_link


def check_string_length(c, size: int, append: int) -> None:
    """Refuse a string that would exceed proto-max-bulk-len (checkStringLength)."""
    if size + append > c.server.config.proto_max_bulk_len and not must_obey(c):
        raise CommandError(errors.STRING_TOO_LONG)


def notify(c, cls: str, event: str, key: bytes) -> None:
    srv = c.server
    if srv.keyspace_publisher is not None:
        srv.notify_keyspace_event(cls, event, key, c.db.id)


# -- GET / SET family ----------------------------------------------------------

_NX, _XX, _GET, _KEEPTTL, _PERSIST = 1, 2, 4, 8, 16
_EX, _PX, _EXAT, _PXAT = 32, 64, 128, 256
_ANY_EXPIRE = _EX | _PX | _EXAT | _PXAT
# option -> (its flag, the flags it cannot be combined with). NX/XX/GET/KEEPTTL
# are SET's, PERSIST is GETEX's; the expire options (which take a value) are both's.
_SET_OPTS = {
    b"nx": (_NX, _XX),
    b"xx": (_XX, _NX),
    b"get": (_GET, 0),
    b"keepttl": (_KEEPTTL, _PERSIST | _ANY_EXPIRE),
}
_EXPIRE_OPTS = {
    b"ex": (_EX, _KEEPTTL | _PERSIST | _EXAT | _PX | _PXAT),
    b"px": (_PX, _KEEPTTL | _PERSIST | _EX | _EXAT | _PXAT),
    b"exat": (_EXAT, _KEEPTTL | _PERSIST | _EX | _PX | _PXAT),
    b"pxat": (_PXAT, _KEEPTTL | _PERSIST | _EX | _EXAT | _PX),
}
_GETEX_OPTS = {b"persist": (_PERSIST, _ANY_EXPIRE | _KEEPTTL)}


def _parse_extended(argv: list[bytes], start: int, opts: dict) -> tuple[int, bytes | None]:
    """parseExtendedStringArgumentsOrReply: option flags and the expire argument."""
    flags = 0
    expire = None
    j = start
    n = len(argv)
    while j < n:
        o = argv[j].lower()
        spec = opts.get(o)
        if spec is not None and not flags & spec[1]:
            flags |= spec[0]
        else:
            spec = _EXPIRE_OPTS.get(o)
            if spec is None or flags & spec[1] or j == n - 1:
                raise CommandError(errors.SYNTAX)
            flags |= spec[0]
            j += 1
            expire = argv[j]
        j += 1
    return flags, expire


def _expire_ms(c, expire: bytes, flags: int, name: str) -> int:
    """getExpireMillisecondsOrReply: the absolute deadline in ms."""
    ms = to_int(expire)
    seconds = flags & (_EX | _EXAT)
    if ms <= 0 or (seconds and ms > LLONG_MAX // 1000):
        raise errors.invalid_expire(name)
    if seconds:
        ms *= 1000
    if flags & (_EX | _PX):
        ms += c.server.now_ms()
        if ms > LLONG_MAX:  # Redis detects the signed overflow
            raise errors.invalid_expire(name)
    return ms


@command("get", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string", since="1.0.0",
         summary="Get the value of a key", complexity="O(1)", args="key")
def get(c, argv):
    return c.db.lookup_read(argv[1], bytes)


def _set_generic(c, argv: list[bytes], value: bytes, flags: int, expire: bytes | None,
                 name: str, ok_reply=OK, abort_reply=None):
    """setGenericCommand: SET and its variants SETNX, SETEX, PSETEX."""
    key = argv[1]
    when = _expire_ms(c, expire, flags, name) if expire is not None else 0
    db = c.db
    old = None
    if flags & _GET:
        old = db.lookup_read(key, bytes)
    found = db.lookup(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        if found:
            db.touch(key)  # Redis looked it up for a write (db.set counts it otherwise)
        return old if flags & _GET else abort_reply
    db.set(key, value, bool(flags & _KEEPTTL))
    notify(c, "$", "set", key)
    if expire is not None:
        db.set_expire(key, when)
        c.propagate_as = [[b"SET", key, value, b"PXAT", b"%d" % when]]
        notify(c, "g", "expire", key)
    elif flags & _GET:
        # Replicas need no GET: propagate the command without it.
        c.propagate_as = [[a for j, a in enumerate(argv) if j < 3 or a.lower() != b"get"]]
    return old if flags & _GET else ok_reply


@command("set", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string", since="1.0.0",
         summary="Set the string value of a key", complexity="O(1)",
         args="key value [NX|XX] [GET] [EX seconds:integer|PX milliseconds:integer|"
              "EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|KEEPTTL]",
         history=(("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                  ("6.0.0", "Added the `KEEPTTL` option."),
                  ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                  ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")))
def set_(c, argv):
    if len(argv) == 3:
        # The fast path. An expired key goes first (its DEL propagated), as
        # lookupKeyWrite in Redis's setKey does.
        db = c.db
        key = argv[1]
        if db.expires and key in db.expires:
            db.expire_if_needed(key)
        db.set(key, argv[2])
        srv = c.server
        if srv.keyspace_publisher is not None:
            srv.notify_keyspace_event("$", "set", key, db.id)
        return OK
    flags, expire = _parse_extended(argv, 3, _SET_OPTS)
    return _set_generic(c, argv, argv[2], flags, expire, "set")


@command("setnx", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0", summary="Set the value of a key, only if the key does not exist",
         complexity="O(1)", args="key value")
def setnx(c, argv):
    return _set_generic(c, argv, argv[2], _NX, None, "setnx", 1, 0)


@command("setex", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="2.0.0", summary="Set the value and expiration of a key", complexity="O(1)",
         args="key seconds:integer value")
def setex(c, argv):
    return _set_generic(c, argv, argv[3], _EX, argv[2], "setex")


@command("psetex", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="2.6.0", summary="Set the value and expiration in milliseconds of a key",
         complexity="O(1)", args="key milliseconds:integer value")
def psetex(c, argv):
    return _set_generic(c, argv, argv[3], _PX, argv[2], "psetex")


@command("getex", arity=-2, flags="write fast", keys=(1, 1, 1), group="string", since="6.2.0",
         summary="Get the value of a key and optionally set its expiration", complexity="O(1)",
         args="key [EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time|"
              "PXAT unix-time-milliseconds:unix-time|PERSIST]")
def getex(c, argv):
    flags, expire = _parse_extended(argv, 2, _GETEX_OPTS)
    key = argv[1]
    db = c.db
    v = db.lookup_read(key, bytes)
    if v is None:
        return None
    srv = c.server
    if expire is not None:
        when = _expire_ms(c, expire, flags, "getex")
        if (flags & (_EXAT | _PXAT) and when <= srv.now_ms() and not srv.is_replica
                and not c.is_replica_link):
            # An absolute deadline already past deletes the key.
            db.delete(key)
            lazy = srv.config.lazyfree_lazy_expire
            c.propagate_as = [[b"UNLINK" if lazy else b"DEL", key]]
            notify(c, "g", "del", key)
        else:
            db.set_expire(key, when)
            db.signal_modified(key)
            c.propagate_as = [[b"PEXPIREAT", key, b"%d" % when]]
            notify(c, "g", "expire", key)
    elif flags & _PERSIST and db.persist(key):
        db.signal_modified(key)
        c.propagate_as = [[b"PERSIST", key]]
        notify(c, "g", "persist", key)
    return v


@command("getdel", arity=2, flags="write fast", keys=(1, 1, 1), group="string", since="6.2.0",
         summary="Get the value of a key and delete the key", complexity="O(1)", args="key")
def getdel(c, argv):
    key = argv[1]
    v = c.db.lookup_read(key, bytes)
    if v is not None:
        c.db.delete(key)
        c.propagate_as = [[b"UNLINK" if c.server.config.lazyfree_lazy_user_del else b"DEL",
                           key]]
        notify(c, "g", "del", key)
    return v


@command("getset", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0", summary="Set the string value of a key and return its old value",
         complexity="O(1)", args="key value", doc_flags="deprecated")
def getset(c, argv):
    key = argv[1]
    db = c.db
    old = db.lookup_read(key, bytes)
    db.set(key, argv[2])
    notify(c, "$", "set", key)
    c.propagate_as = [[b"SET", key, argv[2]]]
    return old


@command("mget", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="string",
         since="1.0.0", summary="Get the values of all the given keys",
         complexity="O(N) where N is the number of keys to retrieve.", args="key ...",
         tips="request_policy:multi_shard")
def mget(c, argv):
    db = c.db
    out = []
    for key in argv[1:]:
        v = db.lookup_read_any(key)
        out.append(v if v.__class__ is bytes else None)
    return out


def _mset_generic(c, argv, nx: bool):
    if len(argv) % 2 == 0:
        raise errors.wrong_arity(argv[0].decode("utf-8", "replace").lower())
    db = c.db
    if nx:
        for j in range(1, len(argv), 2):
            if db.lookup_write_any(argv[j]) is not None:
                return 0
    publish = c.server.keyspace_publisher is not None
    expires = db.expires
    for j in range(1, len(argv), 2):
        key = argv[j]
        if expires and key in expires:
            db.expire_if_needed(key)  # expire first, as setKey's lookupKeyWrite does
        db.set(key, argv[j + 1])
        if publish:
            notify(c, "$", "set", key)
    return 1 if nx else OK


@command("mset", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         since="1.0.1", summary="Set multiple keys to multiple values",
         complexity="O(N) where N is the number of keys to set.", args="(key value) ...",
         tips="request_policy:multi_shard response_policy:all_succeeded")
def mset(c, argv):
    return _mset_generic(c, argv, False)


@command("msetnx", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         since="1.0.1",
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         complexity="O(N) where N is the number of keys to set.", args="(key value) ...",
         tips="request_policy:multi_shard response_policy:agg_min")
def msetnx(c, argv):
    return _mset_generic(c, argv, True)


# -- editing strings -----------------------------------------------------------


@command("append", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="2.0.0", summary="Append a value to a key",
         complexity="O(1). The amortized time complexity is O(1) assuming the appended value "
                    "is small and the already present value is of any size, since the dynamic "
                    "string library used by Redis will double the free space available on "
                    "every reallocation.",
         args="key value")
def append(c, argv):
    key, tail = argv[1], argv[2]
    db = c.db
    v = db.lookup_write(key, bytes)
    if v is None:
        db.add(key, tail)
        n = len(tail)
    else:
        check_string_length(c, len(v), len(tail))
        v += tail
        db.update(key, v, "raw")
        n = len(v)
    notify(c, "$", "append", key)
    return n


@command("strlen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         since="2.2.0", summary="Get the length of the value stored in a key",
         complexity="O(1)", args="key")
def strlen(c, argv):
    v = c.db.lookup_read(argv[1], bytes)
    return 0 if v is None else len(v)


@command("setrange", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="2.2.0",
         summary="Overwrite part of a string at key starting at the specified offset",
         complexity="O(1), not counting the time taken to copy the new string in place. "
                    "Usually, this string is very small so the amortized complexity is O(1). "
                    "Otherwise, complexity is O(M) with M being the length of the value "
                    "argument.",
         args="key offset:integer value")
def setrange(c, argv):
    key, value = argv[1], argv[3]
    offset = to_int(argv[2])
    if offset < 0:
        raise CommandError(errors.OFFSET_OUT_OF_RANGE)
    db = c.db
    v = db.lookup_write(key, bytes)
    if v is None:
        if not value:
            return 0
        check_string_length(c, offset, len(value))
        v = bytes(offset) + value
        db.add(key, v)
        db.set_string_encoding(key, "raw")
    else:
        if not value:
            return len(v)
        check_string_length(c, offset, len(value))
        n = len(v)
        if offset > n:
            v = v + bytes(offset - n) + value
        else:
            v = v[:offset] + value + v[offset + len(value):]
        db.update(key, v, "raw")
    notify(c, "$", "setrange", key)
    return len(v)


def _getrange(c, argv):
    start = to_int(argv[2])
    end = to_int(argv[3])
    v = c.db.lookup_read(argv[1], bytes)
    if v is None:
        return b""
    if start < 0 and end < 0 and start > end:
        return b""
    n = len(v)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return b""
    return v[start:end + 1]


_GETRANGE_COMPLEXITY = (
    "O(N) where N is the length of the returned string. The complexity is ultimately "
    "determined by the returned length, but because creating a substring from an existing "
    "string is very cheap, it can be considered O(1) for small strings.")


@command("getrange", arity=4, flags="readonly", keys=(1, 1, 1), group="string", since="2.4.0",
         summary="Get a substring of the string stored at a key",
         complexity=_GETRANGE_COMPLEXITY, args="key start:integer end:integer")
def getrange(c, argv):
    return _getrange(c, argv)


@command("substr", arity=4, flags="readonly", keys=(1, 1, 1), group="string", since="1.0.0",
         summary="Get a substring of the string stored at a key",
         complexity=_GETRANGE_COMPLEXITY, args="key start:integer end:integer",
         doc_flags="deprecated")
def substr(c, argv):
    return _getrange(c, argv)


# -- counters ------------------------------------------------------------------


def _incr_generic(c, key: bytes, incr: int) -> int:
    db = c.db
    v = db.lookup_write(key, bytes)
    if v is None:
        db.add(key, b"%d" % incr)
        value = incr
    else:
        old = string2ll(v)
        if old is None:
            raise CommandError(errors.NOT_INTEGER)
        value = old + incr
        if value > LLONG_MAX or value < LLONG_MIN:
            raise CommandError(errors.OVERFLOW)
        db.update(key, b"%d" % value)
    srv = c.server
    if srv.keyspace_publisher is not None:
        srv.notify_keyspace_event("$", "incrby", key, db.id)
    return value


@command("incr", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0", summary="Increment the integer value of a key by one",
         complexity="O(1)", args="key")
def incr(c, argv):
    return _incr_generic(c, argv[1], 1)


@command("decr", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0", summary="Decrement the integer value of a key by one",
         complexity="O(1)", args="key")
def decr(c, argv):
    return _incr_generic(c, argv[1], -1)


@command("incrby", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0", summary="Increment the integer value of a key by the given amount",
         complexity="O(1)", args="key increment:integer")
def incrby(c, argv):
    return _incr_generic(c, argv[1], to_int(argv[2]))


@command("decrby", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0", summary="Decrement the integer value of a key by the given number",
         complexity="O(1)", args="key decrement:integer")
def decrby(c, argv):
    n = to_int(argv[2])
    if n == LLONG_MIN:
        raise CommandError(errors.DECR_OVERFLOW)
    return _incr_generic(c, argv[1], -n)


# -- long double arithmetic (INCRBYFLOAT) -----------------------------------------
#
# An x87 long double has a 64-bit significand and exponents from -16382 to
# 16383 (denormals below). Values are kept as exact Fractions (or +-inf floats)
# and rounded to that format half-to-even, as the FPU and glibc's strtold do.

_LD_DIGITS = 64
_LD_EMIN = -16382
_LD_EMAX = 16383
_LD_MAX_CHARS = 5 * 1024  # MAX_LONG_DOUBLE_CHARS
_INF = float("inf")
_DEC_RE = re.compile(rb"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")
_HEX_RE = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?")
_INF_RE = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)


_CHUNK = 4000  # digits per int <-> str conversion (Python limits one to 4300)


def _dec_to_int(digits: bytes) -> int:
    n = 0
    for i in range(0, len(digits), _CHUNK):
        part = digits[i:i + _CHUNK]
        n = n * 10**len(part) + int(part)
    return n


def _int_to_dec(n: int) -> bytes:
    if n < 10**_CHUNK:
        return b"%d" % n
    hi, lo = divmod(n, 10**_CHUNK)
    return _int_to_dec(hi) + b"%0*d" % (_CHUNK, lo)


def _ld_round(x: Fraction) -> Fraction | float:
    """x rounded to the nearest long double (half to even); +-inf on overflow."""
    if not x:
        return x
    neg = x < 0
    n, d = (-x.numerator if neg else x.numerator), x.denominator
    e = n.bit_length() - d.bit_length()  # 2**e <= n/d < 2**(e+2)
    if (n << max(0, -e)) < (d << max(0, e)):
        e -= 1
    # Now 2**e <= n/d < 2**(e+1); the unit in the last place is 2**q.
    q = max(e, _LD_EMIN) - (_LD_DIGITS - 1)
    if q >= 0:
        m, r = divmod(n, d << q)
        den = d << q
    else:
        m, r = divmod(n << -q, d)
        den = d
    if 2 * r > den or (2 * r == den and m & 1):
        m += 1
    if m.bit_length() + q > _LD_EMAX + 1:
        return -_INF if neg else _INF
    if neg:
        m = -m
    return Fraction(m << q) if q >= 0 else Fraction(m, 1 << -q)


def _exponent(ex: bytes | None) -> int:
    """An exponent's value; absurdly long ones are clamped (they over- or
    underflow all the same)."""
    if not ex:
        return 0
    neg = ex[:1] == b"-"
    mag = ex.lstrip(b"+-").lstrip(b"0")
    if len(mag) > 9:
        return -10**9 if neg else 10**9
    v = int(mag or b"0")
    return -v if neg else v


def _ld_parse(s: bytes) -> Fraction | float | None:
    """Redis's string2ld (strtold): the long double for s, or None if refused."""
    if not s or len(s) >= _LD_MAX_CHARS:
        return None
    m = _DEC_RE.fullmatch(s)
    if m is not None:
        sign, ip, fp, ex = m.groups()
        fp = fp or b""
        if not ip and not fp:
            return None
        digits = (ip + fp).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exp = _exponent(ex) - len(fp)
        # Far outside the long double range: overflow or underflow to zero,
        # both refused (ERANGE); this also bounds the exact arithmetic below.
        mag = len(digits) + exp
        if mag > 4940 or mag < -4970:
            return None
        d = _dec_to_int(digits)
        v = Fraction(d * 10**exp) if exp >= 0 else Fraction(d, 10**-exp)
    else:
        m = _HEX_RE.fullmatch(s)
        if m is None:
            m = _INF_RE.fullmatch(s)
            if m is None:
                return None
            return -_INF if m.group(1) == b"-" else _INF
        sign, ip, fp, ex = m.groups()
        fp = fp or b""
        if not ip and not fp:
            return None
        digits = int(ip + fp, 16)
        if not digits:
            return Fraction(0)
        exp = _exponent(ex) - 4 * len(fp)
        mag = digits.bit_length() + exp
        if mag > 16400 or mag < -16500:
            return None
        v = Fraction(digits << exp) if exp >= 0 else Fraction(digits, 1 << -exp)
    r = _ld_round(v)
    if r.__class__ is float or not r:  # overflow or underflow to zero: ERANGE
        return None
    return -r if sign == b"-" else r


def ld_format(v: Fraction) -> bytes:
    """ld2string LD_STR_HUMAN: "%.17Lf" without trailing zeros (never "-0")."""
    neg = v < 0
    a = -v if neg else v
    n, d = a.numerator * 10**17, a.denominator
    q, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and q & 1):
        q += 1
    if not q:
        return b"0"
    ip, fp = divmod(q, 10**17)
    s = _int_to_dec(ip)
    if fp:
        s += (b".%017d" % fp).rstrip(b"0")
    return b"-" + s if neg else s


def incr_long_double(value: bytes | None, incr: bytes) -> bytes:
    """value + incr in long double, formatted as Redis stores it (INCRBYFLOAT,
    HINCRBYFLOAT). Raises Redis's errors for a bad value or a NaN/inf result."""
    a = _ld_parse(value) if value is not None else Fraction(0)
    if a is None:
        raise CommandError(errors.NOT_FLOAT)
    b = _ld_parse(incr)
    if b is None:
        raise CommandError(errors.NOT_FLOAT)
    if a.__class__ is float or b.__class__ is float:
        raise CommandError(errors.INCR_NAN)  # inf + x is inf or NaN
    r = _ld_round(a + b)
    if r.__class__ is float:
        raise CommandError(errors.INCR_NAN)
    return ld_format(r)


@command("incrbyfloat", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="2.6.0", summary="Increment the float value of a key by the given amount",
         complexity="O(1)", args="key increment:double")
def incrbyfloat(c, argv):
    key = argv[1]
    db = c.db
    v = db.lookup_write(key, bytes)
    new = incr_long_double(v, argv[2])
    if v is None:
        db.add(key, new)
    else:
        db.update(key, new)
    # createStringObject: never int-encoded, whatever the digits
    db.set_string_encoding(key, "embstr" if len(new) <= 44 else "raw")
    notify(c, "$", "incrbyfloat", key)
    # Replicas get the result, never a recomputation in their own precision.
    c.propagate_as = [[b"SET", key, new, b"KEEPTTL"]]
    return new


# -- LCS -----------------------------------------------------------------------


def _lcs_rows(a: bytes, b: bytes) -> list[int]:
    """Bit-parallel LCS (Allison-Dix / Hyyro): rows[i] has bit j clear exactly
    when LCS(a[:i], b[:j+1]) > LCS(a[:i], b[:j]); so
    LCS(a[:i], b[:j]) = j - popcount(rows[i] & (2**j - 1))."""
    masks: dict[int, int] = {}
    for j, ch in enumerate(b):
        masks[ch] = masks.get(ch, 0) | (1 << j)
    full = (1 << len(b)) - 1
    v = full
    rows = [v]
    for ch in a:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)
    return rows


@command("lcs", arity=-3, flags="readonly", keys=(1, 2, 1), group="string", since="7.0.0",
         summary="Find longest common substring",
         complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
         args="key1:key key2:key [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]")
def lcs(c, argv):
    db = c.db
    a, b = db.lookup_read_any(argv[1]), db.lookup_read_any(argv[2])
    if (a is not None and a.__class__ is not bytes) or (b is not None and b.__class__ is not bytes):
        raise CommandError(errors.LCS_NOT_STRING)
    a = a or b""
    b = b or b""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    j = 3
    while j < len(argv):
        o = argv[j].lower()
        if o == b"idx":
            getidx = True
        elif o == b"len":
            getlen = True
        elif o == b"withmatchlen":
            withmatchlen = True
        elif o == b"minmatchlen" and j < len(argv) - 1:
            minmatchlen = max(0, to_int(argv[j + 1]))
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if getlen and getidx:
        raise CommandError(errors.LCS_LEN_AND_IDX)
    alen, blen = len(a), len(b)
    if (alen + 1) * (blen + 1) * 4 > c.server.config.proto_max_bulk_len:
        raise CommandError(errors.LCS_TOO_BIG)
    rows = _lcs_rows(a, b)
    total = blen - rows[alen].bit_count()
    if getlen:
        return total
    # Walk back from (alen, blen) exactly as Redis does, so that the same LCS
    # and the same ranges come out.
    result = bytearray(total)
    idx = total
    matches = []
    i, j = alen, blen
    ar_start = alen  # alen: no range open
    ar_end = br_start = br_end = 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if ar_start == alen:
                ar_start = ar_end = i - 1
                br_start = br_end = j - 1
            elif ar_start == i and br_start == j:
                ar_start -= 1
                br_start -= 1
            else:
                emit = True
            if ar_start == 0 or br_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            # LCS(i-1, j) > LCS(i, j-1) ?
            lcs1 = j - (rows[i - 1] & ((1 << j) - 1)).bit_count()
            lcs2 = (j - 1) - (rows[i] & ((1 << (j - 1)) - 1)).bit_count()
            if lcs1 > lcs2:
                i -= 1
            else:
                j -= 1
            if ar_start != alen:
                emit = True
        if emit:
            match_len = ar_end - ar_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                m = [[ar_start, ar_end], [br_start, br_end]]
                if withmatchlen:
                    m.append(match_len)
                matches.append(m)
            ar_start = alen
    if getidx:
        return {b"matches": matches, b"len": total}
    return bytes(result)
