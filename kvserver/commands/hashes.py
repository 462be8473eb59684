"""Hash commands (Redis's t_hash.c).

A hash is a kvserver.types.hash.RedisHash: a small listpack is packed in one
bytes object, other hashes (and hot listpacks) are in a dict, `h.d`; the hot
commands take the dict path inline and call the type's methods otherwise.
Its set methods apply Redis's conversions (listpack -> hashtable, never
back). The first access of a command passes the server along (get(f, srv),
set(..., srv)): that is what counts towards making a packed hash hot. A hash
that loses its last field is deleted. HINCRBYFLOAT computes in long double like
INCRBYFLOAT (sharing its implementation) and is propagated as HSET with the
result, so replicas never recompute it in their own precision.
"""

from __future__ import annotations

from kvserver import errors
from kvserver.args import LLONG_MAX, LLONG_MIN, to_int
from kvserver.commands.keys import parse_scan_cursor
from kvserver.commands.strings import _ld_parse, _ld_round, ld_format
from kvserver.errors import CommandError
from kvserver.glob import glob_matcher
from kvserver.protocol import string2ll
from kvserver.resp import OK
from kvserver.table import command
from kvserver.types.hash import RedisHash

_HSET = b"HSET"
_EMPTY_SCAN = [b"0", []]
_MAX_RANDOM_REPLY = 1 << 24  # HRANDFIELD with repetitions: at most this many fields


def _notify(c, event: str, key: bytes, cls: str = "h") -> None:
    srv = c.server
    if srv.keyspace_publisher is not None:
        srv.notify_keyspace_event(cls, event, key, c.db.id)


def _lookup_or_create(c, key: bytes) -> RedisHash:
    """hashTypeLookupWriteOrCreate: the hash at key, created empty if missing."""
    db = c.db
    h = db.lookup_write(key, RedisHash)
    if h is None:
        h = RedisHash()
        db.add(key, h)
    return h


# -- writing -----------------------------------------------------------------------------


@command("hset", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", summary="Set the string value of a hash field",
         complexity="O(1) for each field/value pair added, so O(N) to add N field/value pairs "
                    "when the command is called with multiple field/value pairs.",
         args="key (field value)...",
         history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),))
def hset(c, argv):
    n = len(argv)
    if n & 1:
        raise errors.wrong_arity(argv[0].decode("utf-8", "replace").lower())
    db = c.db
    key = argv[1]
    h = db.lookup_write(key, RedisHash)
    if h is None:
        h = RedisHash()
        db.add(key, h)
    else:
        db.signal_modified(key)
    if n != 4:
        created = h.set_many(argv, 2, c.server)
    elif h.d is None:
        created = h.set(argv[2], argv[3], c.server)
    else:  # the common case on a dict, kept lean (HSET is benchmarked)
        d = h.d
        f = argv[2]
        v = argv[3]
        created = 0 if f in d else 1
        d[f] = v
        if not d.ht:
            cfg = c.server.config
            maxv = cfg.hash_max_listpack_value
            if (len(f) > maxv or len(v) > maxv
                    or len(d) > cfg.hash_max_listpack_entries):
                d.ht = True
    if c.server.keyspace_publisher is not None:
        _notify(c, "hset", key)
    return created


@command("hmset", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", doc_flags="deprecated", summary="Set multiple hash fields to multiple values",
         complexity="O(N) where N is the number of fields being set.",
         args="key (field value)...")
def hmset(c, argv):
    hset(c, argv)
    return OK


@command("hsetnx", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", summary="Set the value of a hash field, only if the field does not exist",
         complexity="O(1)", args="key field value")
def hsetnx(c, argv):
    key = argv[1]
    h = _lookup_or_create(c, key)
    f = argv[2]
    if f in h:
        return 0
    h.set(f, argv[3], c.server)
    c.db.signal_modified(key)
    _notify(c, "hset", key)
    return 1


@command("hdel", arity=-3, flags="write fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Delete one or more hash fields",
         complexity="O(N) where N is the number of fields to be removed.", args="key field...",
         history=(("2.4.0", "Accepts multiple `field` arguments."),))
def hdel(c, argv):
    db = c.db
    key = argv[1]
    h = db.lookup_write(key, RedisHash)
    if h is None:
        return 0
    deleted = 0
    srv = c.server  # the first access counts towards making the hash hot
    for f in argv[2:]:
        if h.delete(f, srv):
            deleted += 1
        srv = None
    if deleted:
        if len(h):
            db.signal_modified(key)
            _notify(c, "hdel", key)
        else:
            db.delete(key)
            _notify(c, "hdel", key)
            _notify(c, "del", key, "g")
    return deleted


@command("hincrby", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", summary="Increment the integer value of a hash field by the given number",
         complexity="O(1)", args="key field increment:integer")
def hincrby(c, argv):
    incr = to_int(argv[3])
    key = argv[1]
    h = _lookup_or_create(c, key)
    f = argv[2]
    d = h.d
    cur = h.get(f, c.server) if d is None else d.get(f)
    if cur is None:
        value = 0
    else:
        value = string2ll(cur)
        if value is None:
            raise CommandError("ERR hash value is not an integer")
    new = value + incr
    if new < LLONG_MIN or new > LLONG_MAX:
        raise CommandError(errors.OVERFLOW)
    nb = b"%d" % new
    h.set(f, nb, c.server, False)
    c.db.signal_modified(key)
    _notify(c, "hincrby", key)
    return new


@command("hincrbyfloat", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.6.0", summary="Increment the float value of a hash field by the given amount",
         complexity="O(1)", args="key field increment:double")
def hincrbyfloat(c, argv):
    incr = _ld_parse(argv[3])
    if incr is None:
        raise CommandError(errors.NOT_FLOAT)
    if incr.__class__ is float:
        raise CommandError("ERR value is NaN or Infinity")
    key = argv[1]
    h = _lookup_or_create(c, key)
    f = argv[2]
    d = h.d
    cur = h.get(f, c.server) if d is None else d.get(f)
    if cur is None:
        value = 0
    else:
        value = _ld_parse(cur)
        if value is None:
            raise CommandError("ERR hash value is not a float")
        if value.__class__ is float:  # a stored "inf": inf + finite stays inf
            raise CommandError(errors.INCR_NAN)
    r = _ld_round(value + incr)
    if r.__class__ is float:
        raise CommandError(errors.INCR_NAN)
    nb = ld_format(r)
    h.set(f, nb, c.server, False)
    c.db.signal_modified(key)
    _notify(c, "hincrbyfloat", key)
    c.propagate_as = [[_HSET, key, f, nb]]
    return nb


# -- reading -----------------------------------------------------------------------------


@command("hget", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get the value of a hash field", complexity="O(1)", args="key field")
def hget(c, argv):
    h = c.db.lookup_read(argv[1], RedisHash)
    if h is None:
        return None
    d = h.d
    return h.get(argv[2], c.server) if d is None else d.get(argv[2])


@command("hmget", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", summary="Get the values of all the given hash fields",
         complexity="O(N) where N is the number of fields being requested.", args="key field...")
def hmget(c, argv):
    h = c.db.lookup_read(argv[1], RedisHash)
    if h is None:
        return [None] * (len(argv) - 2)
    d = h.d
    if d is None:  # packed: the first lookup counts towards making it hot
        out = [h.get(argv[2], c.server)]
        get = (h if h.d is None else h.d).get
        out += [get(f) for f in argv[3:]]
        return out
    get = d.get
    return [get(f) for f in argv[2:]]


@command("hlen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get the number of fields in a hash", complexity="O(1)", args="key")
def hlen(c, argv):
    h = c.db.lookup_read(argv[1], RedisHash)
    if h is None:
        return 0
    d = h.d
    return h.n if d is None else len(d)


@command("hstrlen", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="3.2.0", summary="Get the length of the value of a hash field",
         complexity="O(1)", args="key field")
def hstrlen(c, argv):
    h = c.db.lookup_read(argv[1], RedisHash)
    if h is None:
        return 0
    d = h.d
    v = h.get(argv[2], c.server) if d is None else d.get(argv[2])
    return 0 if v is None else len(v)


@command("hexists", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", summary="Determine if a hash field exists", complexity="O(1)",
         args="key field")
def hexists(c, argv):
    h = c.db.lookup_read(argv[1], RedisHash)
    if h is None:
        return 0
    d = h.d
    return 1 if argv[2] in (h if d is None else d) else 0


@command("hkeys", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get all the fields in a hash", complexity="O(N) where N is the size of the hash.",
         args="key", tips="nondeterministic_output_order")
def hkeys(c, argv):
    h = c.db.lookup_read(argv[1], RedisHash)
    return [] if h is None else h.fields()


@command("hvals", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get all the values in a hash", complexity="O(N) where N is the size of the hash.",
         args="key", tips="nondeterministic_output_order")
def hvals(c, argv):
    h = c.db.lookup_read(argv[1], RedisHash)
    return [] if h is None else h.values()


@command("hgetall", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get all the fields and values in a hash",
         complexity="O(N) where N is the size of the hash.", args="key",
         tips="nondeterministic_output_order")
def hgetall(c, argv):
    h = c.db.lookup_read(argv[1], RedisHash)
    if h is None:
        return {}
    # A map in RESP3; in RESP2 the same flat array a dict gives, built in C.
    return h.to_dict() if c.resp3 else h.flat()


@command("hrandfield", arity=-2, flags="readonly", keys=(1, 1, 1), group="hash",
         since="6.2.0", summary="Get one or multiple random fields from a hash",
         complexity="O(N) where N is the number of fields returned",
         args="key [count:integer [WITHVALUES]]", tips="nondeterministic_output")
def hrandfield(c, argv):
    n = len(argv)
    if n == 2:
        h = c.db.lookup_read(argv[1], RedisHash)
        return None if h is None else h.random_field()
    count = to_int(argv[2])
    if count < -LLONG_MAX:
        raise CommandError("ERR value is out of range, value must between "
                           "-9223372036854775807 and 9223372036854775807")
    withvalues = False
    if n > 4 or (n == 4 and argv[3].lower() != b"withvalues"):
        raise CommandError(errors.SYNTAX)
    if n == 4:
        withvalues = True
        if count < -(LLONG_MAX // 2) or count > LLONG_MAX // 2:
            raise CommandError("ERR value is out of range")
    h = c.db.lookup_read(argv[1], RedisHash)
    if h is None or count == 0:
        return []
    size = len(h)
    if count < 0 or count == 1:
        # With repetitions (or a single field): random order.
        if count < -_MAX_RANDOM_REPLY:
            # Redis would stream billions of fields until memory runs out; a
            # reply here is built whole first, so refuse what cannot fit.
            raise CommandError("ERR value is out of range")
        pairs = h.random_items(-count if count < 0 else 1, False)
    elif count >= size:
        pairs = h.items()
    else:
        pairs = h.random_items(count, True)
    if not withvalues:
        return [f for f, _ in pairs]
    if c.resp3:
        return [[f, v] for f, v in pairs]
    out = []
    for f, v in pairs:
        out.append(f)
        out.append(v)
    return out


# -- HSCAN -------------------------------------------------------------------------------


@command("hscan", arity=-3, flags="readonly", keys=(1, 1, 1), group="hash", since="2.8.0",
         summary="Incrementally iterate hash fields and associated values",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
         args="key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
         tips="nondeterministic_output")
def hscan(c, argv):
    cursor = parse_scan_cursor(argv[2])
    h = c.db.lookup_read(argv[1], RedisHash)
    if h is None:
        return _EMPTY_SCAN
    count = 10
    pattern = None
    i, n = 3, len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"count" and i + 1 < n:
            count = to_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"match" and i + 1 < n:
            pattern = argv[i + 1]
            if pattern == b"*":
                pattern = None
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    if not h.ht:
        # A listpack is returned whole in one call, as Redis does.
        out = h.flat()
        if pattern is not None:
            match = glob_matcher(pattern)
            out = [x for i in range(0, len(out), 2) if match(out[i]) for x in out[i:i + 2]]
        return [b"0", out]
    cursor, fields = h.scan(cursor, count)
    if pattern is not None:
        match = glob_matcher(pattern)
        fields = [f for f in fields if match(f)]
    get = h.d.get
    out = []
    for f in fields:
        out.append(f)
        out.append(get(f))
    return [b"%d" % cursor, out]
