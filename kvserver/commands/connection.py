"""Connection commands: PING, ECHO, SELECT, SWAPDB, HELLO, AUTH, QUIT, RESET."""

from __future__ import annotations

from kvserver import REDIS_COMPAT_VERSION, errors
from kvserver.args import to_int
from kvserver.errors import CommandError
from kvserver.resp import OK, PONG, Status
from kvserver.table import command


@command("ping", arity=-1, flags="fast", group="connection", since="1.0.0",
         tips="request_policy:all_shards response_policy:all_succeeded",
         summary="Ping the server", complexity="O(1)",
         args="[message]", simple=True)
def ping(c, argv):
    if len(argv) > 2:
        raise errors.wrong_arity("ping")
    if c.subscriptions and not c.resp3:
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    if len(argv) == 2:
        return argv[1]
    return PONG


@command("echo", arity=2, flags="loading stale fast", group="connection", since="1.0.0",
         summary="Echo the given string", complexity="O(1)", args="message", simple=True)
def echo(c, argv):
    return argv[1]


def _db_index(c, b: bytes, msg: str = errors.NOT_INTEGER) -> int:
    idx = to_int(b, msg)
    if idx < 0 or idx >= len(c.server.dbs):
        raise CommandError(errors.DB_INDEX)
    return idx


@command("select", arity=2, flags="loading stale fast", group="connection", since="1.0.0",
         summary="Change the selected database for the current connection", complexity="O(1)", args="index:integer")
def select(c, argv):
    c.db = c.server.dbs[_db_index(c, argv[1])]
    return OK


@command("swapdb", arity=3, flags="write fast", group="server", since="4.0.0",
         acl="@keyspace @dangerous",
         summary="Swaps two Redis databases",
         complexity="O(N) where N is the count of clients watching or blocking on keys from both databases.",
         args="index1:integer index2:integer")
def swapdb(c, argv):
    srv = c.server
    a = to_int(argv[1], "ERR invalid first DB index")
    b = to_int(argv[2], "ERR invalid second DB index")
    if a < 0 or a >= len(srv.dbs) or b < 0 or b >= len(srv.dbs):
        raise CommandError(errors.DB_INDEX)
    if a != b:
        from kvserver.commands.multi import touch_all_watched

        da, db_ = srv.dbs[a], srv.dbs[b]
        touch_all_watched(da)
        touch_all_watched(db_)
        # Swap contents, keep the Database objects (clients keep their SELECT).
        for attr in ("data", "expires", "string_encodings", "access", "_heap", "_scan_snapshots"):
            va, vb = getattr(da, attr), getattr(db_, attr)
            setattr(da, attr, vb)
            setattr(db_, attr, va)
        touch_all_watched(da)
        touch_all_watched(db_)
        for db in (da, db_):
            for key in list(db.blocking_keys):
                if key in db.data:
                    srv.blocking.signal_key_ready(db, key)
        srv.dirty += 1
    return OK


def _server_info_map(c) -> dict:
    return {
        b"server": b"redis",
        b"version": REDIS_COMPAT_VERSION.encode(),
        b"proto": 3 if c.resp3 else 2,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"replica" if c.server.is_replica else b"master",
        b"modules": [],
    }


def _check_password(c, user: bytes, password: bytes) -> bool:
    required = c.server.config.requirepass
    if user != b"default":
        return False
    if not required:
        return True
    return password == required.encode()


@command("auth", arity=-2, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="1.0.0", summary="Authenticate to the server",
         complexity="O(N) where N is the number of passwords defined for the user",
         args="[username] password")
def auth(c, argv):
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        if not c.server.config.requirepass:
            raise CommandError(
                "ERR AUTH <password> called without any password configured for the "
                "default user. Are you sure your configuration is correct?")
        user, pw = b"default", argv[1]
    else:
        user, pw = argv[1], argv[2]
    if not _check_password(c, user, pw):
        raise CommandError(errors.WRONGPASS)
    c.authenticated = True
    c.user = user
    return OK


@command("hello", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="6.0.0",
         summary="Handshake with Redis", complexity="O(1)",
         args="[protover:integer [AUTH username password] [SETNAME clientname]]")
def hello(c, argv):
    ver = None
    i = 1
    if len(argv) >= 2:
        v = to_int(argv[1], "ERR Protocol version is not an integer or out of range")
        if v < 2 or v > 3:
            raise CommandError("NOPROTO unsupported protocol version")
        ver = v
        i = 2
    auth_pair = None
    name = None
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"auth" and more >= 2:
            auth_pair = (argv[i + 1], argv[i + 2])
            i += 3
        elif opt == b"setname" and more >= 1:
            name = argv[i + 1]
            i += 2
        else:
            raise CommandError(f"ERR Syntax error in HELLO option '{argv[i].decode('utf-8', 'replace')}'")
    if auth_pair is not None:
        if not _check_password(c, *auth_pair):
            raise CommandError(errors.WRONGPASS)
        c.authenticated = True
        c.user = auth_pair[0]
    if not c.authenticated:
        raise CommandError("NOAUTH HELLO must be called with the client already authenticated, "
                           "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                           "authenticate the client and select the RESP protocol version at the "
                           "same time")
    if name is not None:
        from kvserver.commands.client import validate_client_name

        validate_client_name(name)
        c.name = name
    if ver is not None:
        c.resp3 = ver == 3
    return _server_info_map(c)


@command("quit", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="1.0.0", summary="Close the connection",
         complexity="O(1)")
def quit_(c, argv):
    c.close_after_reply = True
    return OK


@command("reset", arity=1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="6.2.0",
         summary="Reset the connection", complexity="O(1)")
def reset(c, argv):
    from kvserver.commands.multi import discard_transaction, unwatch_all

    if c.mstate is not None:
        discard_transaction(c)
    unwatch_all(c)
    if c.is_monitor:
        c.is_monitor = False
        if c in c.server.monitors:
            c.server.monitors.remove(c)
    for hook in RESET_HOOKS:
        hook(c)
    c.db = c.server.dbs[0]
    c.resp3 = False
    c.name = b""
    c.reply_mode = 0
    c.no_evict = False
    c.no_touch = False
    c.authenticated = not c.server.config.requirepass
    c.user = b"default"
    return Status(b"RESET")


# Features with per-client state (pub/sub, tracking) register how RESET clears it.
RESET_HOOKS: list = []

