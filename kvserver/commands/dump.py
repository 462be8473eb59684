"""DUMP, RESTORE and MIGRATE: keys moved as serialized values (kvserver.rdb)."""

from __future__ import annotations

import re
import socket

from kvserver import access, errors, rdb
from kvserver.args import LLONG_MAX, to_int
from kvserver.errors import CommandError
from kvserver.resp import OK, Status, encode
from kvserver.table import command


@command("dump", arity=2, flags="readonly", keys=(1, 1, 1), group="generic", since="2.6.0",
         summary="Return a serialized version of the value stored at the specified key.",
         complexity="O(1) to access the key and additional O(N*M) to serialize it, where N is "
                    "the number of Redis objects composing the value and M their average size. "
                    "For small string values the time complexity is thus O(1)+O(1*M) where M is "
                    "small, so simply O(1).",
         args="key", tips="nondeterministic_output")
def dump(c, argv):
    v = c.db.lookup_read_any(argv[1])
    return None if v is None else rdb.dump_payload(v)


@command("restore", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="generic",
         since="2.6.0", acl="@keyspace @dangerous",
         summary="Create a key using the provided serialized value, previously obtained using "
                 "DUMP.",
         complexity="O(1) to create the new key and additional O(N*M) to reconstruct the "
                    "serialized value, where N is the number of Redis objects composing the "
                    "value and M their average size. For small string values the time "
                    "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However "
                    "for sorted set values the complexity is O(N*M*log(N)) because inserting "
                    "values into sorted sets is O(log(N)).",
         args="key ttl:integer serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds:integer] "
              "[FREQ frequency:integer]",
         history=(("3.0.0", "Added the `REPLACE` modifier."),
                  ("5.0.0", "Added the `ABSTTL` modifier."),
                  ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")))
def restore(c, argv):
    replace = absttl = False
    idle = freq = -1
    j = 4
    while j < len(argv):
        opt = argv[j].lower()
        more = len(argv) - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more and freq == -1:
            idle = to_int(argv[j + 1])
            if idle < 0:
                raise CommandError("ERR Invalid IDLETIME value, must be >= 0")
            j += 1
        elif opt == b"freq" and more and idle == -1:
            freq = to_int(argv[j + 1])
            if not 0 <= freq <= 255:
                raise CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    db, key, payload = c.db, argv[1], argv[3]
    if not replace and db.lookup_write_any(key) is not None:
        raise CommandError("BUSYKEY Target key name already exists.")
    ttl = to_int(argv[2])
    if ttl < 0:
        raise CommandError("ERR Invalid TTL value, must be >= 0")
    if not rdb.payload_is_valid(payload):
        raise CommandError("ERR DUMP payload version or checksum are wrong")
    try:
        value = rdb.load_payload(payload, c.server.config)
    except rdb.BadData:
        raise CommandError("ERR Bad data format") from None
    srv = c.server
    deleted = replace and db.delete(key)
    if ttl and not absttl:
        ttl += srv.now_ms()
        if ttl > LLONG_MAX:
            ttl -= 1 << 64  # Redis's long long wraps: the key counts as expired
    if ttl and ttl <= srv.now_ms() and not srv.is_replica and not c.is_replica_link:
        # Already expired: nothing is created, and a replaced key is just deleted.
        if deleted:
            c.propagate_as = [[b"DEL", key]]
            srv.notify_keyspace_event("g", "del", key, db.id)
        return OK
    db.add(key, value)
    field = access.restored_field(srv.config.maxmemory_policy in access.LFU_POLICIES, freq, idle,
                                  srv.lru_clock, access.lfu_minutes(srv.wall_ms()))
    if field is not None:
        db.set_access_field(key, field)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:  # replicas get the deadline, not the time left
            c.propagate_as = [[argv[0], key, b"%d" % ttl, *argv[3:], b"ABSTTL"]]
    srv.notify_keyspace_event("g", "restore", key, db.id)
    return OK


# -- MIGRATE ------------------------------------------------------------------------------

def _migrate_getkeys(argv: list[bytes]) -> list[int]:
    """migrateGetKeys: the key argument, or the keys after KEYS when it is empty."""
    if len(argv) > 6 and not argv[3]:
        for i in range(6, len(argv)):
            if argv[i].lower() == b"keys":
                return list(range(i + 1, len(argv)))
    return [3]


_LEADING_INT = re.compile(rb"\s*([+-]?\d+)")


def _atoi(b: bytes) -> int:
    m = _LEADING_INT.match(b)
    return int(m.group(1)) if m else 0


class _TargetError(Exception):
    def __init__(self, doing: str) -> None:
        super().__init__(doing)
        self.doing = doing  # "connecting", "writing", "reading"


@command("migrate", arity=-6, flags="write movablekeys", keys=(3, 3, 1), group="generic",
         since="2.6.0", acl="@keyspace @dangerous", tips="nondeterministic_output",
         summary="Atomically transfer a key from a Redis instance to another one.",
         complexity="This command actually executes a DUMP+DEL in the source instance, and a "
                    "RESTORE in the target instance. See the pages of these commands for time "
                    "complexity. Also an O(N) data transfer between the two instances is "
                    "performed.",
         args='host port:integer key|"" destination-db:integer timeout:integer [COPY] '
              "[REPLACE] [[AUTH password]|[AUTH2 username password]] [KEYS key...]",
         getkeys=_migrate_getkeys,
         history=(("3.0.0", "Added the `COPY` and `REPLACE` options."),
                  ("3.0.6", "Added the `KEYS` option."),
                  ("4.0.7", "Added the `AUTH` option."),
                  ("6.0.0", "Added the `AUTH2` option.")))
def migrate(c, argv):
    # As in Redis, the transfer blocks the server: connect, send every RESTORE,
    # read the replies, each step within `timeout` ms. Unlike Redis, the
    # connection is not kept for the next MIGRATE.
    copy = replace = False
    auth: list[bytes] = []
    first, num = 3, 1
    j = 6
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"copy":
            copy = True
        elif opt == b"replace":
            replace = True
        elif opt == b"auth":
            if not more:
                raise CommandError(errors.SYNTAX)
            auth = [argv[j + 1]]
            j += 1
        elif opt == b"auth2":
            if more < 2:
                raise CommandError(errors.SYNTAX)
            auth = [argv[j + 1], argv[j + 2]]
            j += 2
        elif opt == b"keys":
            if argv[3]:
                raise CommandError("ERR When using MIGRATE KEYS option, the key argument must "
                                   "be set to the empty string")
            first, num = j + 1, len(argv) - j - 1
            break
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    timeout = to_int(argv[5])
    dbid = to_int(argv[4])
    if timeout <= 0:
        timeout = 1000
    timeout = min(timeout, 1 << 31)  # what a socket timeout can hold, and ~24 days
    db, srv = c.db, c.server
    found = [(k, v) for k in argv[first:first + num]
             if (v := db.lookup_read_any(k)) is not None]
    if not found:
        return Status(b"NOKEY")

    requests = []
    if auth:
        requests.append([b"AUTH", *auth])
    requests.append([b"SELECT", b"%d" % dbid])
    moving = []
    for key, value in found:
        ttl = 0
        when = db.get_expire(key)
        if when is not None:
            ttl = when - srv.now_ms()
            if ttl < 0:
                continue  # expired since it was looked up
            ttl = max(ttl, 1)
        restore = [b"RESTORE", key, b"%d" % ttl, rdb.dump_payload(value)]
        if replace:
            restore.append(b"REPLACE")
        requests.append(restore)
        moving.append(key)
    n_head = len(requests) - len(moving)  # AUTH, SELECT
    try:
        replies = _exchange(argv[1], argv[2], requests, n_head + 1, timeout / 1000)
    except _TargetError as e:
        if e.doing == "connecting":  # (sic: Redis's text)
            raise CommandError("IOERR error or timeout connecting to the client") from None
        raise CommandError(f"IOERR error or timeout {e.doing} to target instance") from None

    # replies: AUTH's (if sent), SELECT's, then one per RESTORE (fewer if the
    # target stopped answering). A key is deleted here once the target has it.
    head_error = next((r for r in replies[:n_head] if r.startswith(b"-")), None)
    first_error = None
    deleted = []
    for key, reply in zip(moving, replies[n_head:], strict=False):
        error = head_error or (reply if reply.startswith(b"-") else None)
        if error is not None:
            first_error = first_error or error
        elif not copy:
            db.delete(key)
            srv.notify_keyspace_event("g", "del", key, db.id)
            deleted.append(key)
    c.propagate_as = [[b"DEL", *deleted]] if deleted else []
    if first_error is not None:
        raise CommandError("ERR Target instance replied with error: "
                           + first_error[1:].decode("utf-8", "replace"))
    if len(replies) < len(requests):
        raise CommandError("IOERR error or timeout reading to target instance")
    return OK


def _exchange(host: bytes, port: bytes, requests: list[list[bytes]], needed: int,
              timeout: float) -> list[bytes]:
    """Send the requests in one write and read one reply line for each. On a
    read error or timeout: the lines read so far if there are `needed` (the
    replies to AUTH and SELECT and the first RESTORE's), else _TargetError."""
    try:
        sock = socket.create_connection((host.decode("utf-8", "replace"), _atoi(port)),
                                        timeout=timeout)
    except ConnectionRefusedError:
        # Redis connects without blocking and learns of the refusal when it
        # writes the request.
        raise _TargetError("writing") from None
    except (OSError, ValueError, OverflowError):
        raise _TargetError("connecting") from None
    with sock:
        try:  # a request is an array of bulk strings: resp.encode writes one
            sock.sendall(b"".join([encode(argv, False) for argv in requests]))
        except OSError:
            raise _TargetError("writing") from None
        replies: list[bytes] = []
        buf = b""
        while len(replies) < len(requests):
            nl = buf.find(b"\n")
            if nl == -1:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                buf += chunk
                continue
            replies.append(buf[:nl].rstrip(b"\r"))
            buf = buf[nl + 1:]
        if len(replies) < min(needed, len(requests)):
            raise _TargetError("reading")
        return replies
