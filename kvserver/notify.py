"""Keyspace notifications (notify-keyspace-events), as Redis's notify.c.

Command families call `server.notify_keyspace_event(cls, event, key, dbid)`
where Redis calls notifyKeyspaceEvent, with Redis's class character and event
name. When the class is enabled, the event is published (kvserver.pubsub) as
`__keyspace@<db>__:<key>` -> event (flag K) and `__keyevent@<db>__:<event>`
-> key (flag E). Classes: g generic, $ string, l list, s set, h hash, z zset,
x expired, e evicted, t stream, d module, m key miss, n new key; A is
"g$lshzxetd" (neither m nor n, as in Redis).

Two classes need hooks in the keyspace itself: `m` (a read that finds no key)
and `n` (a key created). So that they cost nothing when off, the databases of
a server switch to `HookedDatabase`, a subclass with those hooks (and client
tracking's invalidation hook), only while one of the features is on.
"""

from __future__ import annotations

from functools import partial

from kvserver.keyspace import Database
from kvserver.server import Server

_ALL = "g$lshzxetd"


class EventFlags:
    """notify-keyspace-events, parsed once per change of its text."""

    __slots__ = ("raw", "classes", "keyspace", "keyevent")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        classes = set(raw)
        if "A" in classes:
            classes.update(_ALL)
        self.keyspace = "K" in classes
        self.keyevent = "E" in classes
        classes -= {"A", "K", "E"}
        # Without K or E nothing is published at all.
        self.classes = frozenset(classes) if (self.keyspace or self.keyevent) else frozenset()


_NONE = EventFlags("")


def event_flags(srv: Server) -> EventFlags:
    raw = srv.config.notify_keyspace_events
    f = srv.__dict__.get("_event_flags", _NONE)
    if f.raw != raw:
        f = srv._event_flags = EventFlags(raw)
    return f


def publish_keyspace_event(srv: Server, cls: str, event: str, key: bytes, dbid: int) -> None:
    """Server.keyspace_publisher: notifyKeyspaceEvent's publishing half."""
    flags = event_flags(srv)
    if cls not in flags.classes:
        return
    ps = srv.pubsub
    if not (ps.channels or ps.patterns):
        return  # nobody could receive it
    ev = event.encode()
    if flags.keyspace:
        ps.publish(b"__keyspace@%d__:%s" % (dbid, key), ev)
    if flags.keyevent:
        ps.publish(b"__keyevent@%d__:%s" % (dbid, ev), key)



# -- hooks in the keyspace, on only when needed ---------------------------------------

class HookedDatabase(Database):
    """A Database with the hooks of key-miss (m) and new-key (n) events and of
    client tracking. `update_db_hooks` swaps a server's databases to this class
    and back, so the plain Database's hot paths carry none of these checks."""

    __slots__ = ()

    def lookup_read(self, key: bytes, t: type) -> object | None:
        v = Database.lookup_read(self, key, t)
        if v is None and self.server.notify_keymiss:
            self.server.notify_keyspace_event("m", "keymiss", key, self.id)
        return v

    def lookup_read_any(self, key: bytes, touch: bool = True) -> object | None:
        v = Database.lookup_read_any(self, key, touch)
        if v is None and self.server.notify_keymiss:
            self.server.notify_keyspace_event("m", "keymiss", key, self.id)
        return v

    def add(self, key: bytes, value: object) -> None:
        Database.add(self, key, value)
        if self.server.notify_newkey:
            self.server.notify_keyspace_event("n", "new", key, self.id)

    def set(self, key: bytes, value: object, keepttl: bool = False) -> None:
        if not self.server.notify_newkey:
            Database.set(self, key, value, keepttl)
            return
        # Redis's setKey looks the key up for a write first (expiring it if
        # due), and creates it with dbAdd, which sends `new`.
        new = self.lookup(key) is None
        Database.set(self, key, value, keepttl)
        if new:
            self.server.notify_keyspace_event("n", "new", key, self.id)

    def signal_modified(self, key: bytes, dirty: bool = True) -> None:
        Database.signal_modified(self, key, dirty)
        tr = self.server.tracking
        if tr.hooked:
            tr.invalidate_key(key)

    def _delete_expired(self, key: bytes) -> None:
        tr = self.server.tracking
        tr.expiring += 1  # no client deleted it (BCAST NOLOOP still hears of it)
        try:
            Database._delete_expired(self, key)
        finally:
            tr.expiring -= 1


def update_db_hooks(srv: Server) -> None:
    """Install the publisher while some class of events is on (commands test
    `keyspace_publisher is not None` before building an event), and give
    srv's databases the hooked class while m/n events or tracking need it."""
    classes = event_flags(srv).classes
    srv.keyspace_publisher = (  # type: ignore[method-assign]
        partial(publish_keyspace_event, srv) if classes else None)
    srv.notify_keymiss = "m" in classes
    srv.notify_newkey = "n" in classes
    want = srv.notify_keymiss or srv.notify_newkey or srv.tracking.hooked
    cls = HookedDatabase if want else Database
    for db in srv.dbs:
        if db.__class__ is not cls:
            db.__class__ = cls


def _on_start(srv: Server) -> None:
    def changed(name: str) -> None:
        if name == "notify-keyspace-events":
            update_db_hooks(srv)

    srv.config.on_change(changed)
    update_db_hooks(srv)


Server.start_hooks.append(_on_start)
