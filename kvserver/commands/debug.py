"""DEBUG: the subcommands test suites use, refused unless enable-debug-command
allows it (as Redis does).

DIGEST and DIGEST-VALUE compute Redis's own digest (debug.c): SHA1 mixing,
where order matters (lists, the keys' names before their values), and XOR of
SHA1s where it does not (set members, hash fields, sorted-set members, the
keys of a database). The same dataset therefore has the same digest here as
in Redis, and an empty one is forty zeros.

ADVANCE-TIME is kvserver's own: it moves the server clock forward, for tests
(KVServer.advance_time uses it on a server in another process).
"""

from __future__ import annotations

import hashlib
import random
import re
import struct
import time
from collections.abc import Callable, Iterable

from kvserver import access, errors, rdb
from kvserver.args import to_float
from kvserver.commands.server_cmds import flush_db, help_reply, subcommand_syntax_error
from kvserver.config import ConfigError, parse_memory
from kvserver.errors import CommandError
from kvserver.glob import glob_match
from kvserver.info import replication_ids
from kvserver.protocol import string2ll
from kvserver.resp import OK, Raw, SetReply, Status, Verbatim
from kvserver.table import TABLE, command

NOT_ALLOWED = ('ERR DEBUG command not allowed. If the enable-debug-command option is set to '
               '"local", you can run it from a local connection, otherwise you need to set this '
               'option in the configuration file, and then restart the server.')


def debug_allowed(c) -> bool:
    """enable-debug-command: yes, or local and the client is on loopback / Unix."""
    mode = c.server.config.enable_debug_command
    if mode == "yes" or c.is_internal:
        return True
    return mode == "local" and c.is_local()


# -- the digest --------------------------------------------------------------------

_ZERO = bytes(20)
# Redis's object type numbers (OBJ_STRING, OBJ_LIST, ...), mixed in big-endian.
_TYPE_CODES = {"string": 0, "list": 1, "set": 2, "zset": 3, "hash": 4, "stream": 6}


def _sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()


def _xor(digest: bytes, data: bytes) -> bytes:
    """xorDigest: digest ^= SHA1(data)."""
    return (int.from_bytes(digest, "big") ^ int.from_bytes(_sha1(data), "big")).to_bytes(20, "big")


def _mix(digest: bytes, data: bytes) -> bytes:
    """mixDigest: digest = SHA1(digest ^ SHA1(data)); order-sensitive."""
    return _sha1(_xor(digest, data))


def _pairs_digest(digest: bytes, pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    for a, b in pairs:
        digest = _xor(digest, _mix(_mix(_ZERO, a), b))
    return digest


def _digest_list(digest: bytes, v) -> bytes:
    for e in v:
        digest = _mix(digest, e)
    return digest


def _digest_set(digest: bytes, v) -> bytes:
    for m in getattr(v, "members", v):
        digest = _xor(digest, m)
    return digest


def _digest_zset(digest: bytes, v) -> bytes:
    return _pairs_digest(digest, ((m, b"%.17g" % s) for m, s in v.dict.items()))


def _digest_hash(digest: bytes, v) -> bytes:
    return _pairs_digest(digest, v.items())


def _digest_stream(digest: bytes, v) -> bytes:
    # Entries in ID order: the ID as "ms.seq", then each field and value.
    for (ms, seq), fields in v.digest_entries():
        digest = _mix(digest, b"%d.%d" % (ms, seq))
        for f in fields:
            digest = _mix(digest, f)
    return digest


# type name -> digest(value) folded into a running digest. A type added later
# registers here (a stream type provides digest_entries()).
VALUE_DIGESTERS: dict[str, Callable[[bytes, object], bytes]] = {
    "string": _mix,
    "list": _digest_list,
    "set": _digest_set,
    "zset": _digest_zset,
    "hash": _digest_hash,
    "stream": _digest_stream,
}


def object_digest(digest: bytes, db, key: bytes, value: object) -> bytes:
    """xorObjectDigest: the type, the value, and whether the key has a TTL."""
    tname = "string" if value.__class__ is bytes else value.type_name  # type: ignore[attr-defined]
    digest = _mix(digest, struct.pack(">I", _TYPE_CODES.get(tname, 5)))
    digest = VALUE_DIGESTERS[tname](digest, value)
    if key in db.expires:
        digest = _xor(digest, b"!!expire!!")
    return digest


def dataset_digest(srv) -> bytes:
    """computeDatasetDigest over every database (logically expired keys included,
    as Redis iterates its dicts without expiring)."""
    final = _ZERO
    for db in srv.dbs:
        if not db.data:
            continue
        final = _mix(final, struct.pack(">I", db.id))
        for key, value in db.data.items():
            d = object_digest(_mix(_ZERO, key), db, key, value)
            final = _xor(final, d)
    return final


# -- DEBUG OBJECT --------------------------------------------------------------------------

def _rdb_len_size(n: int) -> int:
    return 1 if n < 64 else 2 if n < 16384 else 5 if n <= 0xFFFFFFFF else 9


def _rdb_string_len(s: bytes) -> int:
    """RDB size of a string: 32-bit integers in 2-5 bytes, else length + bytes
    (LZF compression, which Redis tries on strings over 20 bytes, is not counted)."""
    if len(s) <= 11:
        v = string2ll(s)
        if v is not None:
            if -(2**7) <= v < 2**7:
                return 2
            if -(2**15) <= v < 2**15:
                return 3
            if -(2**31) <= v < 2**31:
                return 5
    return _rdb_len_size(len(s)) + len(s)


def _listpack_entry_size(e: bytes) -> int:
    """Bytes of one listpack entry: encoding (+ data) and its back-length."""
    v = string2ll(e) if len(e) <= 20 else None
    if v is None:
        n = len(e)
        enc = (1 if n < 64 else 2 if n < 4096 else 5) + n
    elif 0 <= v < 128:
        enc = 1
    elif -4096 <= v < 4096:
        enc = 2
    elif -(2**15) <= v < 2**15:
        enc = 3
    elif -(2**23) <= v < 2**23:
        enc = 4
    elif -(2**31) <= v < 2**31:
        enc = 5
    else:
        enc = 9
    return enc + (1 if enc < 128 else 2 if enc < 16384 else 3 if enc < 2097152 else 5)


def _listpack_bytes(entries: Iterable[bytes]) -> int:
    return 7 + sum(_listpack_entry_size(e) for e in entries)  # header + end byte


def _blob_len(n: int) -> int:
    return _rdb_len_size(n) + n


def serialized_length(value: object, cfg) -> int:
    """An estimate of the RDB serialized length (DEBUG OBJECT serializedlength):
    Redis's RDB layout for the value's encoding, without LZF compression."""
    if value.__class__ is bytes:
        return _rdb_string_len(value)
    enc = value.encoding(cfg)  # type: ignore[attr-defined]
    tname = value.type_name  # type: ignore[attr-defined]
    if tname == "list":
        nodes = _quicklist_nodes(value, cfg.list_max_listpack_size)
        return _rdb_len_size(len(nodes)) + sum(1 + _blob_len(sz) for sz in nodes)
    if tname == "hash":
        if enc == "listpack":
            return _blob_len(_listpack_bytes(x for kv in value.items() for x in kv))
        return _rdb_len_size(len(value)) + sum(  # type: ignore[arg-type]
            _rdb_string_len(f) + _rdb_string_len(v) for f, v in value.items())
    if tname == "zset":
        scores = value.dict  # type: ignore[attr-defined]
        if enc == "listpack":
            return _blob_len(_listpack_bytes(
                x for m, sc in scores.items() for x in (m, b"%.17g" % sc)))
        return _rdb_len_size(len(scores)) + sum(_rdb_string_len(m) + 8 for m in scores)
    if tname == "set":
        members = value.members  # type: ignore[attr-defined]
        if enc == "intset":
            ints = [int(m) for m in members]
            big = max((max(i, -i - 1) for i in ints), default=0)
            width = 2 if big < 2**15 else 4 if big < 2**31 else 8
            return _blob_len(8 + width * len(ints))
        return _rdb_len_size(len(members)) + sum(_rdb_string_len(m) for m in members)
    return 0


def _quicklist_nodes(v: Iterable[bytes], fill: int) -> list[int]:
    """The byte sizes of the listpack nodes Redis's quicklist would hold these
    elements in, each filled up to list-max-listpack-size (entries, or bytes
    when negative: -1 4kb ... -5 64kb)."""
    limit = 4096 << (min(max(-fill, 1), 5) - 1) if fill < 0 else None
    nodes: list[int] = []
    size = count = 0
    for e in v:
        es = _listpack_entry_size(e)
        full = count >= fill if limit is None else size + es > limit
        if not nodes or (full and count):
            if nodes:
                nodes[-1] = size
            nodes.append(0)
            size, count = 7, 0  # listpack header + end byte
        size += es
        count += 1
    if nodes:
        nodes[-1] = size
    return nodes


def _quicklist_info(v, fill: int, compress: int) -> str:
    nodes = _quicklist_nodes(v, fill)
    avg = len(v) / len(nodes) if nodes else 0.0
    return (f" ql_nodes:{len(nodes)} ql_avg_node:{avg:.2f} ql_listpack_max:{fill}"
            f" ql_compressed:{int(compress != 0)} ql_uncompressed_size:{sum(nodes)}")


def _debug_object(c, key: bytes) -> Status:
    from kvserver.commands.keys import encoding_of, refcount_of

    # Like Redis, a raw look-up: a key whose TTL passed is still shown.
    v = c.db.data.get(key)
    if v is None:
        raise CommandError(errors.NO_SUCH_KEY)
    cfg = c.server.config
    enc = encoding_of(v, cfg, c.db, key)
    refcount = refcount_of(c.db, key, v, cfg)
    # Without an LRU/LFU policy no access time is kept (kvserver.access): the
    # key reads as just used.
    lru = c.db.access_field(key) if c.db.tracking else c.server.lru_clock
    extra = _quicklist_info(v, cfg.list_max_listpack_size, cfg.list_compress_depth) \
        if enc == "quicklist" else ""
    return Status(f"Value at:{id(v):#x} refcount:{refcount} encoding:{enc} "
                  f"serializedlength:{serialized_length(v, cfg)} lru:{lru} "
                  f"lru_seconds_idle:{access.idle_ms(lru, c.server.lru_clock) // 1000}"
                  f"{extra}".encode())


# -- the subcommands ----------------------------------------------------------------------

def _strtod(b: bytes) -> float:
    """C strtod: the longest numeric prefix, 0 if none."""
    m = _FLOAT_PREFIX.match(b)
    try:
        return float(m.group(0)) if m else 0.0
    except ValueError:
        return 0.0


_FLOAT_PREFIX = re.compile(rb"\s*[+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)",
                           re.IGNORECASE)


def _atoi(b: bytes) -> int:
    m = re.match(rb"\s*[+-]?\d+", b)
    return int(m.group(0)) if m else 0


def _sleep(c, argv):
    secs = _strtod(argv[2])
    if secs == secs and secs > 0:  # not NaN
        time.sleep(min(secs, 1e6))
    return OK


def _set_active_expire(c, argv):
    c.server.active_expire_enabled = bool(_atoi(argv[2]))
    return OK


def _log(c, argv):
    c.server.log_warning("DEBUG LOG: " + argv[2].decode("utf-8", "replace"))
    return OK


def _pause_cron(c, argv):
    c.server.cron_paused = bool(_atoi(argv[2]))
    return OK


def _advance_time(c, argv):
    secs = to_float(argv[2])
    if secs < 0:
        raise CommandError("ERR the clock can only move forward")
    c.server.advance_time(secs)
    return OK


def _object(c, argv):
    return _debug_object(c, argv[2])


def _digest(c, argv):
    return Status(dataset_digest(c.server).hex().encode())


def _digest_value(c, argv):
    db = c.db
    out = []
    for key in argv[2:]:
        v = db.data.get(key)  # logically expired keys too, as Redis
        d = object_digest(_ZERO, db, key, v) if v is not None else _ZERO
        out.append(Status(d.hex().encode()))
    return out


_PROTOCOL_TYPES = "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
_BIGNUM = b"1234567999999999999999999999999999999"
_ATTRIB_REPLY = b"Some real reply following the attribute"
_PUSH_REPLY = b"Some real reply following the push reply"


def _protocol(c, argv):
    name = argv[2].lower()
    resp3 = c.resp3
    if name == b"string":
        return b"Hello World"
    if name == b"integer":
        return 12345
    if name == b"double":
        return 3.141
    if name == b"bignum":
        return Raw(b"(%s\r\n" % _BIGNUM) if resp3 else _BIGNUM
    if name == b"null":
        return None
    if name == b"array":
        return [0, 1, 2]
    if name == b"set":
        return SetReply([0, 1, 2])
    if name == b"map":
        return {0: False, 1: True, 2: False}
    if name == b"attrib":
        if not resp3:
            return _ATTRIB_REPLY
        # An attribute is not a reply of its own: the real reply follows it.
        return Raw(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
                   b"$%d\r\n%s\r\n" % (len(_ATTRIB_REPLY), _ATTRIB_REPLY))
    if name == b"push":
        if not resp3:
            raise CommandError("ERR RESP2 is not supported by this command")
        return Raw(b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$%d\r\n%s\r\n"
                   % (len(_PUSH_REPLY), _PUSH_REPLY))
    if name == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    if name == b"true":
        return True
    if name == b"false":
        return False
    raise CommandError("ERR Wrong protocol type name. Please use one of the following: "
                       + _PROTOCOL_TYPES)


def _error(c, argv):
    # The argument itself as an error reply (newlines become spaces). Redis
    # writes it raw, past its error accounting: errorstats do not count it.
    text = argv[2].replace(b"\r", b" ").replace(b"\n", b" ")
    return Raw(b"-%s\r\n" % text)


def _positive_long(b: bytes) -> int:
    v = string2ll(b)
    if v is None or v < 0:
        raise CommandError(errors.NOT_POSITIVE)
    return v


def _populate(c, argv):
    count = _positive_long(argv[2])
    size = _positive_long(argv[4]) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = c.db
    srv = c.server
    dirty = srv.dirty  # not a change to persist or propagate, as in Redis
    for j in range(count):
        key = b"%s:%d" % (prefix, j)
        if db.lookup(key) is not None:
            continue
        val = b"value:%d" % j
        if size:
            val = val[:size].ljust(size, b"\0")
        db.add(key, val)
    srv.dirty = dirty
    return OK


def _change_repl_id(c, argv):
    import os

    srv = c.server
    srv.log_warning("Changing replication IDs after receiving DEBUG change-repl-id")
    replication_ids(srv)
    srv.replid = os.urandom(20).hex()
    srv.replid2 = "0" * 40
    return OK


def _quicklist_packed_threshold(c, argv):
    try:
        sz = parse_memory(argv[2].decode("utf-8", "replace"))
    except ConfigError:
        sz = -1
    if sz < 0 or sz > (1 << 32) - (1 << 20):
        raise CommandError("ERR argument must be a memory value bigger than 1 and smaller "
                           "than 4gb")
    # Only lists that store elements in nodes of their own use it; kept for
    # DEBUG's contract (the Redis test suite sets it).
    c.server.quicklist_packed_threshold = sz or (1 << 30)
    return OK


def _stringmatch_test(c, argv):
    # A fuzz test of the glob matcher on random patterns and strings: it must
    # return, whatever the input (Redis's stringmatchlen_fuzz_test).
    alphabet = b"*?[]^-\\ab"
    for _ in range(1000):
        pat = bytes(random.choice(alphabet) for _ in range(random.randint(0, 32)))
        s = bytes(random.randrange(256) for _ in range(random.randint(0, 32)))
        glob_match(pat, s)
    return Status(b"Apparently Redis did not crash: test passed")


_RELOAD_FAILED = "ERR Error trying to load the RDB dump"


def _reload(c, argv):
    """DEBUG RELOAD: what saving the dataset as an RDB file and loading it
    back does, done in memory (kvserver writes no RDB file yet). Every value
    goes through its DUMP form and back, so it comes back encoded as a load
    encodes it; TTLs stay, keys already expired are not loaded, and under an
    LRU/LFU policy the idle time or frequency the RDB keeps comes back."""
    merge = noflush = nosave = False
    for opt in argv[2:]:
        o = opt.lower()
        if o == b"merge":
            merge = True
        elif o == b"noflush":
            noflush = True
        elif o == b"nosave":
            nosave = True
        else:
            raise CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE "
                               "options.")
    if nosave:
        raise CommandError(_RELOAD_FAILED)  # no RDB file to load: none is ever written
    srv = c.server
    policy = srv.config.maxmemory_policy
    lfu = policy in access.LFU_POLICIES
    minutes = access.lfu_minutes(srv.wall_ms())
    saved = []
    for db in srv.dbs:
        for key, value in db.data.items():
            idle = freq = -1  # what rdbSaveKeyValuePair keeps of the access time
            if db.tracking:
                field = db.access_field(key)
                if lfu:
                    freq = access.lfu_decr_and_return(field, minutes, srv.config.lfu_decay_time)
                else:
                    idle = access.idle_ms(field, srv.lru_clock) // 1000
            saved.append((db, key, rdb.dump_payload(value), db.expires.get(key), idle, freq))
    if noflush and not merge and saved:
        # Every key would come twice: Redis stops the server on such a file
        # ("Duplicated key found in RDB file"); kvserver refuses instead.
        raise CommandError(_RELOAD_FAILED)
    if not noflush:
        flush_db(srv, -1)
    now = srv.now_ms()
    for db, key, payload, when, idle, freq in saved:
        if when is not None and when < now and not srv.is_replica:
            continue  # rdbLoad drops keys that expired meanwhile (on a primary)
        if key in db.data:  # MERGE: the loaded value wins
            db.delete(key)
        db.add(key, rdb.load_payload(payload, srv.config))
        if when is not None:
            db.set_expire(key, when)
        field = access.restored_field(lfu, freq, idle, srv.lru_clock, minutes)
        if field is not None:
            db.set_access_field(key, field)
    c.propagate_as = []  # a save and a load: nothing for replicas
    srv.log_warning("DB reloaded by DEBUG RELOAD")
    return OK


def _help(c, argv):
    return help_reply("DEBUG", _HELP)


_HELP = [
    "ADVANCE-TIME <seconds>",
    "    Move the server clock forward by <seconds> (kvserver only: for tests).",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "    (kvserver: done in memory, as it writes no RDB file yet: NOSAVE finds none,",
    "    and NOFLUSH without MERGE answers an error instead of stopping the server.)",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
]

# name -> (handler, accepts(argc)): the argument counts Redis accepts for each.
_SUBCOMMANDS: dict[bytes, tuple[Callable, Callable[[int], bool]]] = {
    b"help": (_help, lambda n: n == 2),
    b"sleep": (_sleep, lambda n: n == 3),
    b"set-active-expire": (_set_active_expire, lambda n: n == 3),
    b"pause-cron": (_pause_cron, lambda n: n == 3),
    b"log": (_log, lambda n: n == 3),
    b"advance-time": (_advance_time, lambda n: n == 3),
    b"object": (_object, lambda n: n == 3),
    b"digest": (_digest, lambda n: n == 2),
    b"digest-value": (_digest_value, lambda n: n >= 2),
    b"protocol": (_protocol, lambda n: n == 3),
    b"error": (_error, lambda n: n == 3),
    b"populate": (_populate, lambda n: 3 <= n <= 5),
    b"reload": (_reload, lambda n: n >= 2),
    b"change-repl-id": (_change_repl_id, lambda n: n == 2),
    b"quicklist-packed-threshold": (_quicklist_packed_threshold, lambda n: n == 3),
    b"stringmatch-test": (_stringmatch_test, lambda n: n == 2),
}


@command("debug", arity=-2, flags="admin noscript loading stale", group="server",
         since="1.0.0", summary="A container for debugging commands",
         complexity="Depends on subcommand.", doc_flags="syscmd")
def debug(c, argv):
    entry = _SUBCOMMANDS.get(argv[1].lower())
    if entry is None or not entry[1](len(argv)):
        raise subcommand_syntax_error(argv)
    return entry[0](c, argv)



def _debug_precheck(c) -> CommandError | None:
    return None if debug_allowed(c) else CommandError(NOT_ALLOWED)


TABLE[b"debug"].precheck = _debug_precheck
