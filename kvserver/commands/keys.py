"""Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY,
RENAME, RENAMENX, MOVE, COPY, TOUCH, OBJECT."""

from __future__ import annotations

from kvserver import access, errors
from kvserver.args import to_int
from kvserver.errors import CommandError
from kvserver.glob import glob_matcher
from kvserver.keyspace import type_name
from kvserver.resp import OK, Status
from kvserver.table import command, container, subcommand


def copy_value(v: object) -> object:
    """An independent copy of a value (strings are immutable bytes)."""
    return v if v.__class__ is bytes else v.copy()  # type: ignore[attr-defined]


def encoding_of(v: object, config, db=None, key: bytes | None = None) -> str:
    """What OBJECT ENCODING reports for v (at key in db, for a string changed
    in place: see Database.string_encoding)."""
    if v.__class__ is bytes:
        from kvserver.commands.strings import string_encoding

        forced = db.string_encoding(key) if db is not None else None
        return forced or string_encoding(v)
    return v.encoding(config)  # type: ignore[attr-defined]


def refcount_of(db, key: bytes, v: object, config) -> int:
    """OBJECT REFCOUNT. Redis shares one object for each integer 0..9999
    (OBJ_SHARED_INTEGERS, refcount INT_MAX), unless an LRU/LFU policy with a
    memory limit needs per-object access times, or the string was not encoded
    from its content (changed in place: see Database.string_encoding)."""
    if (v.__class__ is bytes and v.isdigit() and len(v) <= 4 and (v == b"0" or v[0] != 48)
            and not (config.maxmemory and config.maxmemory_policy in access.TRACKING_POLICIES)
            and db.string_encoding(key) is None):
        return 2147483647
    return 1


def _delete_keys(c, argv, event: str) -> int:
    db = c.db
    n = 0
    for key in argv[1:]:
        if db.delete(key):
            n += 1
            c.server.notify_keyspace_event("g", "del", key, db.id)
    return n


@command("del", arity=-2, flags="write", keys=(1, -1, 1), group="generic", since="1.0.0",
         summary="Delete a key",
         complexity="O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
         args="key...", tips="request_policy:multi_shard response_policy:agg_sum")
def del_(c, argv):
    return _delete_keys(c, argv, "del")


@command("unlink", arity=-2, flags="write fast", keys=(1, -1, 1), group="generic",
         since="4.0.0", summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
         complexity="O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
         args="key...", tips="request_policy:multi_shard response_policy:agg_sum")
def unlink(c, argv):
    return _delete_keys(c, argv, "del")


@command("exists", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         since="1.0.0", summary="Determine if a key exists",
         complexity="O(N) where N is the number of keys to check.", args="key...", tips="request_policy:multi_shard response_policy:agg_sum")
def exists(c, argv):
    db = c.db
    return sum(1 for key in argv[1:] if db.lookup_read_any(key, touch=False) is not None)


@command("touch", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         since="3.2.1",
         summary="Alters the last access time of a key(s). Returns the number of existing keys specified.",
         complexity="O(N) where N is the number of keys that will be touched.", args="key...", tips="request_policy:multi_shard response_policy:agg_sum")
def touch(c, argv):
    db = c.db
    return sum(1 for key in argv[1:] if db.lookup_read_any(key) is not None)


@command("type", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="1.0.0", summary="Determine the type stored at key",
         complexity="O(1)", args="key")
def type_(c, argv):
    v = c.db.lookup_read_any(argv[1], touch=False)
    return Status(b"none" if v is None else type_name(v).encode())


@command("keys", arity=2, flags="readonly", keys=(0, 0, 0), group="generic", since="1.0.0",
         summary="Find all keys matching the given pattern",
         complexity="O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
         args="pattern:pattern", tips="request_policy:all_shards nondeterministic_output_order",
         acl="@keyspace @read @dangerous")
def keys(c, argv):
    db = c.db
    match = glob_matcher(argv[1])
    now = c.server.now_ms()
    expires = db.expires
    out = []
    for k in db.data:
        if match(k):
            if expires:
                when = expires.get(k)
                if when is not None and when <= now:
                    continue  # logically expired: not listed (not deleted here)
            out.append(k)
    return out


def parse_scan_cursor(b: bytes) -> int:
    """Redis's parseScanCursorOrReply: strtoul over the whole string, no leading
    blank; a negative number wraps around (-1 is the largest cursor) and an
    empty string is cursor 0. Shared by SCAN, HSCAN, SSCAN and ZSCAN."""
    if b[:1] in (b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c"):
        raise CommandError(errors.INVALID_CURSOR)
    neg = b[:1] == b"-"
    s = b[1:] if b[:1] in (b"-", b"+") else b
    if not s:
        if b:
            raise CommandError(errors.INVALID_CURSOR)
        return 0
    if not s.isdigit():
        raise CommandError(errors.INVALID_CURSOR)
    v = int(s)
    if v >= 2**64:
        raise CommandError(errors.INVALID_CURSOR)
    return (-v) % 2**64 if neg else v


def parse_scan_options(argv: list[bytes], start: int, allow_type: bool):
    """MATCH / COUNT (/ TYPE) options shared by SCAN, HSCAN, SSCAN, ZSCAN."""
    count = 10
    pattern = None
    type_filter = None
    i = start
    while i < len(argv):
        opt = argv[i].lower()
        if i + 1 >= len(argv):
            raise CommandError(errors.SYNTAX)
        if opt == b"count":
            count = to_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"match":
            pattern = argv[i + 1]
        elif opt == b"type" and allow_type:
            type_filter = argv[i + 1].decode("utf-8", "replace").lower()
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    return count, pattern, type_filter


@command("scan", arity=-2, flags="readonly", group="generic", since="2.8.0",
         summary="Incrementally iterate the keys space",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
         args="cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]",
         tips="nondeterministic_output request_policy:special")
def scan(c, argv):
    cursor = parse_scan_cursor(argv[1])
    count, pattern, type_filter = parse_scan_options(argv, 2, True)
    db = c.db
    nxt, batch = db.scan(cursor, count)
    match = glob_matcher(pattern) if pattern is not None else None
    out = []
    for k in batch:
        if match is not None and not match(k):
            continue
        if type_filter is None:
            if db.lookup(k) is None:  # expired keys are deleted here, as Redis's scan does
                continue
        else:
            # Redis checks the type with a statistics-counting, no-touch look-up.
            v = db.lookup_read_any(k, touch=False)
            if v is None or type_name(v) != type_filter:
                continue
        out.append(k)
    return [b"%d" % nxt, out]


@command("randomkey", arity=1, flags="readonly", group="generic", since="1.0.0",
         summary="Return a random key from the keyspace", complexity="O(1)",
         tips="request_policy:all_shards nondeterministic_output")
def randomkey(c, argv):
    return c.db.random_key()


def _rename(c, argv, nx: bool):
    db = c.db
    src, dst = argv[1], argv[2]
    v = db.lookup_write_any(src)
    if v is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    when = db.get_expire(src)
    field = db.access_field(src)  # the value moves, its access time with it
    encoding = db.string_encoding(src)
    if db.lookup_write_any(dst) is not None:
        if nx:
            return 0
        db.delete(dst)
    db.delete(src)
    db.add(dst, v)
    db.set_access_field(dst, field)
    db.set_string_encoding(dst, encoding)
    if when is not None:
        db.set_expire(dst, when)
    srv = c.server
    srv.notify_keyspace_event("g", "rename_from", src, db.id)
    srv.notify_keyspace_event("g", "rename_to", dst, db.id)
    if db.blocking_keys and dst in db.blocking_keys:
        db.signal_ready(dst)
    return 1 if nx else OK


@command("rename", arity=3, flags="write", keys=(1, 2, 1), group="generic", since="1.0.0",
         summary="Rename a key", complexity="O(1)",
         args="key newkey")
def rename(c, argv):
    return _rename(c, argv, nx=False)


@command("renamenx", arity=3, flags="write fast", keys=(1, 2, 1), group="generic",
         since="1.0.0", summary="Rename a key, only if the new key does not exist",
         complexity="O(1)", args="key newkey")
def renamenx(c, argv):
    return _rename(c, argv, nx=True)


def _target_db(c, b: bytes):
    idx = to_int(b, errors.NOT_INTEGER)
    if idx < 0 or idx >= len(c.server.dbs):
        raise CommandError("ERR DB index is out of range")
    return c.server.dbs[idx]


@command("move", arity=3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="1.0.0", summary="Move a key to another database", complexity="O(1)",
         args="key db:integer")
def move(c, argv):
    src_db = c.db
    dst_db = _target_db(c, argv[2])
    if dst_db is src_db:
        raise CommandError(errors.SAME_OBJECT)
    key = argv[1]
    v = src_db.lookup_write_any(key)
    if v is None:
        return 0
    if dst_db.lookup_write_any(key) is not None:
        return 0
    when = src_db.get_expire(key)
    field = src_db.access_field(key)  # the value moves, its access time with it
    encoding = src_db.string_encoding(key)
    src_db.delete(key)
    dst_db.add(key, v)
    dst_db.set_access_field(key, field)
    dst_db.set_string_encoding(key, encoding)
    if when is not None:
        dst_db.set_expire(key, when)
    srv = c.server
    srv.notify_keyspace_event("g", "move_from", key, src_db.id)
    srv.notify_keyspace_event("g", "move_to", key, dst_db.id)
    dst_db.signal_ready(key)
    return 1


@command("copy", arity=-3, flags="write denyoom", keys=(1, 2, 1), group="generic",
         since="6.2.0", summary="Copy a key",
         complexity="O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
         args="source:key destination:key [DB destination-db:integer] [REPLACE]")
def copy(c, argv):
    src, dst = argv[1], argv[2]
    dst_db = c.db
    replace = False
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and i + 1 < len(argv):
            dst_db = _target_db(c, argv[i + 1])
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if src == dst and dst_db is c.db:
        raise CommandError(errors.SAME_OBJECT)
    v = c.db.lookup_read_any(src)
    if v is None:
        return 0
    if dst_db.lookup_write_any(dst) is not None:
        if not replace:
            return 0
        dst_db.delete(dst)
    when = c.db.get_expire(src)
    dst_db.add(dst, copy_value(v))
    dst_db.set_string_encoding(dst, c.db.string_encoding(src))  # dupStringObject keeps it
    if when is not None:
        dst_db.set_expire(dst, when)
    c.server.notify_keyspace_event("g", "copy_to", dst, dst_db.id)
    dst_db.signal_ready(dst)
    return 1


OBJECT = container("object", group="generic", since="2.2.3",
                   summary="A container for object introspection commands")


@subcommand(OBJECT, "encoding", arity=3, flags="readonly", keys=(2, 2, 1), since="2.2.3",
            summary="Inspect the internal encoding of a Redis object", complexity="O(1)",
            args="key", tips="nondeterministic_output")
def object_encoding(c, argv):
    v = c.db.lookup_stats(argv[2])
    if v is None:
        return None
    return encoding_of(v, c.server.config, c.db, argv[2]).encode()


@subcommand(OBJECT, "refcount", arity=3, flags="readonly", keys=(2, 2, 1), since="2.2.3",
            summary="Get the number of references to the value of the key", complexity="O(1)",
            args="key", tips="nondeterministic_output")
def object_refcount(c, argv):
    v = c.db.lookup_stats(argv[2])
    if v is None:
        return None
    return refcount_of(c.db, argv[2], v, c.server.config)


@subcommand(OBJECT, "idletime", arity=3, flags="readonly", keys=(2, 2, 1), since="2.2.3",
            summary="Get the time since a Redis object was last accessed",
            complexity="O(1)", args="key", tips="nondeterministic_output")
def object_idletime(c, argv):
    v = c.db.lookup_stats(argv[2])
    if v is None:
        return None
    srv = c.server
    if srv.config.maxmemory_policy in access.LFU_POLICIES:
        raise CommandError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
            "when switching between policies at runtime LRU and LFU data will take some time "
            "to adjust.")
    if not c.db.tracking:
        raise CommandError(
            "ERR idle time is kept only under an LRU maxmemory-policy (allkeys-lru, "
            "volatile-lru): kvserver stores no per-key access time otherwise")
    return access.idle_ms(c.db.access_field(argv[2]), srv.lru_clock) // 1000


@subcommand(OBJECT, "freq", arity=3, flags="readonly", keys=(2, 2, 1), since="4.0.0",
            summary="Get the logarithmic access frequency counter of a Redis object",
            complexity="O(1)", args="key", tips="nondeterministic_output")
def object_freq(c, argv):
    v = c.db.lookup_stats(argv[2])
    if v is None:
        return None
    srv = c.server
    if srv.config.maxmemory_policy not in access.LFU_POLICIES:
        raise CommandError(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
            "note that when switching between policies at runtime LRU and LFU data will take "
            "some time to adjust.")
    return access.lfu_decr_and_return(c.db.access_field(argv[2]),
                                      access.lfu_minutes(srv.wall_ms()),
                                      srv.config.lfu_decay_time)


_OBJECT_HELP = [
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
]


@subcommand(OBJECT, "help", arity=2, flags="loading stale", since="6.2.0",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def object_help(c, argv):
    from kvserver.commands.server_cmds import help_reply

    return help_reply("OBJECT", _OBJECT_HELP)
