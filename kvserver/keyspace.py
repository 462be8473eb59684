"""The keyspace: one Database per SELECT index.

A Database owns the key -> value dict and a parallel key -> deadline (ms) dict.
Handlers never touch them directly: `lookup_read` / `lookup_write` apply lazy
expiry, the WRONGTYPE check and the keyspace hit/miss statistics; `set`, `add`,
`delete` and `signal_modified` keep WATCH (and later client tracking) informed.

Values are `bytes` for strings and one class per aggregate type (kvserver.types),
each carrying `type_name` for TYPE. A string's OBJECT ENCODING follows from its
content (int, embstr, raw), except where Redis's object says otherwise: a string
changed in place (APPEND, SETRANGE, SETBIT...) is raw, INCRBYFLOAT's result is
never int. `string_encodings` holds those few keys (see string_encoding).

Access times. Under an LRU or LFU maxmemory-policy (`tracking`), a third dict,
`access`, holds each key's Redis `lru` field (see kvserver.access): stamped when
the key is created and on every access through lookup_read / lookup_write /
lookup_read_any / lookup_write_any / touch, as Redis's lookupKey does; `lookup`
(TYPE, EXISTS, TTL, OBJECT, internal checks) leaves it alone, as LOOKUP_NOTOUCH
does. The server keeps `stamp` (what an access stores: the LRU clock, or None
under LFU, for a CLIENT NO-TOUCH client or when not tracking) and `new_stamp`
(what a new key gets; None under LFU) current. Redis keeps the field in every
object's header for free; here it costs ~40 bytes a key, so it is kept only
while a policy needs it (see kvserver.access).

Active expiry. Redis samples random keys from its expires table because its hash
table makes that cheap. A Python dict cannot be sampled without copying, so we
keep a min-heap of (deadline, key) beside the expires dict instead: the cron pops
entries whose deadline has passed, checks them against the dict (an entry is
stale when the key's TTL was changed or removed since it was pushed), and stops
when its time budget for this tick is spent, just as Redis's cycle does. A
million keys that expire at once are reclaimed over several ticks, never in one
stall, and no unexpired key is ever examined. Stale heap entries are dropped by
a rebuild once they outnumber live ones.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kvserver import access as lru
from kvserver.errors import WRONGTYPE, CommandError

if TYPE_CHECKING:
    from kvserver.server import Server


def type_name(value: object) -> str:
    if value.__class__ is bytes:
        return "string"
    return value.type_name  # type: ignore[attr-defined]


class Database:
    __slots__ = ("id", "server", "stats", "data", "expires", "string_encodings",
                 "access", "tracking", "stamp", "new_stamp", "lfu_touch", "untracked_field",
                 "lfu_minutes", "lfu_decay_time", "lfu_log_factor",
                 "_heap", "watched", "blocking_keys", "avg_ttl", "_scan_snapshots", "_scan_seq")

    def __init__(self, server: Server, index: int) -> None:
        self.id = index
        self.server = server
        self.stats = server.stats
        self.data: dict[bytes, object] = {}
        self.expires: dict[bytes, int] = {}
        self.string_encodings: dict[bytes, str] = {}  # see the module docstring
        # key -> Redis's lru field; it and the attributes below are managed by
        # Server.refresh_access_clock (see the module docstring).
        self.access: dict[bytes, int] = {}
        self.tracking = False
        self.stamp: int | None = None
        self.new_stamp: int | None = None
        self.lfu_touch = False
        self.untracked_field = 0  # the field of a key that has none (set on a policy switch)
        self.lfu_minutes = 0  # LFU clock and settings, cached by the server's cron
        self.lfu_decay_time = 1
        self.lfu_log_factor = 10
        self._heap: list[tuple[int, bytes]] = []
        # key -> clients WATCHing it (kvserver.multi)
        self.watched: dict[bytes, set] = {}
        # key -> clients blocked on it, in arrival order (kvserver.blocking)
        self.blocking_keys: dict[bytes, list] = {}
        self.avg_ttl = 0
        self._scan_snapshots: dict[int, list[bytes]] = {}
        self._scan_seq = 0

    def __len__(self) -> int:
        return len(self.data)

    # -- reading -----------------------------------------------------------

    def lookup_read(self, key: bytes, t: type) -> object | None:
        """The value at key for a read, or None. Raises WRONGTYPE for another type.

        Counts keyspace hits and misses and the access (a WRONGTYPE too, as
        Redis looks the key up before it checks the type).
        """
        v = self.data.get(key)
        stats = self.stats
        if v is None:
            stats.keyspace_misses += 1
            return None
        if self.expires and key in self.expires and self.expire_if_needed(key):
            stats.keyspace_misses += 1
            return None
        stats.keyspace_hits += 1
        s = self.stamp  # touch(key), inlined on this hot path
        if s is not None:
            self.access[key] = s
        elif self.lfu_touch:
            self._touch_lfu(key)
        if v.__class__ is not t:
            raise CommandError(WRONGTYPE)
        return v

    def lookup_read_any(self, key: bytes, touch: bool = True) -> object | None:
        """The value at key, of any type, for a read (Redis's lookupKeyRead):
        lazy expiry and the keyspace hit/miss statistics, no type check.
        touch=False: the access time stays (LOOKUP_NOTOUCH, as TYPE does)."""
        v = self.lookup(key)
        if v is None:
            self.stats.keyspace_misses += 1
        else:
            self.stats.keyspace_hits += 1
            if touch:
                self.touch(key)
        return v

    def lookup_write(self, key: bytes, t: type) -> object | None:
        """The value at key for a write, or None. Raises WRONGTYPE for another type."""
        v = self.data.get(key)
        if v is None:
            return None
        if self.expires and key in self.expires and self.expire_if_needed(key):
            return None
        s = self.stamp  # touch(key), inlined on this hot path
        if s is not None:
            self.access[key] = s
        elif self.lfu_touch:
            self._touch_lfu(key)
        if v.__class__ is not t:
            raise CommandError(WRONGTYPE)
        return v

    def lookup_stats(self, key: bytes) -> object | None:
        """The value at key for introspection (Redis's objectCommandLookup,
        LOOKUP_NOTOUCH | LOOKUP_NONOTIFY): lazy expiry and the hit/miss
        statistics; the access time stays and no keymiss event goes out."""
        v = self.lookup(key)
        if v is None:
            self.stats.keyspace_misses += 1
        else:
            self.stats.keyspace_hits += 1
        return v

    def lookup_write_any(self, key: bytes) -> object | None:
        """The value at key, of any type, for a write (Redis's lookupKeyWrite):
        lazy expiry and the access, no statistics."""
        v = self.lookup(key)
        if v is not None:
            self.touch(key)
        return v

    def lookup(self, key: bytes) -> object | None:
        """The value at key, of any type, after lazy expiry; no statistics,
        and the access time stays (see touch)."""
        v = self.data.get(key)
        if v is None:
            return None
        if self.expires and key in self.expires and self.expire_if_needed(key):
            return None
        return v

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def string_encoding(self, key: bytes) -> str | None:
        """The OBJECT ENCODING of key's string where its content does not tell
        it (see the module docstring), else None."""
        return self.string_encodings.get(key) if self.string_encodings else None

    def set_string_encoding(self, key: bytes, encoding: str | None) -> None:
        """Record that key's string is held as `encoding` whatever its content
        (None: as its content says)."""
        if encoding is not None:
            self.string_encodings[key] = encoding
        elif self.string_encodings:
            self.string_encodings.pop(key, None)

    # -- access times --------------------------------------------------------

    def touch(self, key: bytes) -> None:
        """Count an access to key, which exists (Redis's lookupKey without
        LOOKUP_NOTOUCH): its access time, or its LFU counter."""
        s = self.stamp
        if s is not None:
            self.access[key] = s
        elif self.lfu_touch:
            self._touch_lfu(key)

    def _touch_lfu(self, key: bytes) -> None:
        self.access[key] = lru.lfu_touch(self.access.get(key, self.untracked_field),
                                         self.lfu_minutes, self.lfu_decay_time,
                                         self.lfu_log_factor)

    def _stamp_new_lfu(self, key: bytes, existed: bool) -> None:
        """Under LFU, a value stored at key: a new key gets a first counter;
        an existing one keeps its counter, the store counting as an access
        (Redis's setKey looks the key up for a write, then dbOverwrite keeps
        the old value's field)."""
        if not existed:
            self.access[key] = lru.lfu_field(self.lfu_minutes, lru.LFU_INIT_VAL)
        elif self.lfu_touch:
            self._touch_lfu(key)

    def access_field(self, key: bytes) -> int:
        """key's lru field (key exists). A key from before access times were
        kept counts as accessed when the policy began to keep them."""
        return self.access.get(key, self.untracked_field)

    def set_access_field(self, key: bytes, field: int) -> None:
        """Give key (which exists) an lru field: RENAME and MOVE carry the
        value's own, RESTORE sets IDLETIME / FREQ."""
        if self.tracking:
            self.access[key] = field

    # -- writing -----------------------------------------------------------

    def set(self, key: bytes, value: object, keepttl: bool = False) -> None:
        """Store value at key (any previous value and, unless keepttl, TTL go).
        An existing key counts as accessed, as in Redis's setKey."""
        if self.tracking:
            s = self.new_stamp
            if s is not None:
                self.access[key] = s
            else:
                self._stamp_new_lfu(key, key in self.data)
        self.data[key] = value
        if self.string_encodings:
            self.string_encodings.pop(key, None)
        if not keepttl and self.expires and key in self.expires:
            del self.expires[key]
        self.signal_modified(key)
        if self.blocking_keys and key in self.blocking_keys:  # SORT STORE, RESTORE...
            self.server.blocking.signal_key_ready(self, key)

    def update(self, key: bytes, value: object, encoding: str | None = None) -> None:
        """Store a new version of key's own value (INCR, APPEND, SETRANGE,
        SETBIT, PFADD...): the TTL and the access time stay, as for Redis's
        changes in place, where the command's look-up counted the access.
        encoding: the string's OBJECT ENCODING when its content does not
        tell it ("raw" after a change in place)."""
        self.data[key] = value
        if encoding is not None:  # set_string_encoding, inlined (INCR is hot)
            self.string_encodings[key] = encoding
        elif self.string_encodings:
            self.string_encodings.pop(key, None)
        self.signal_modified(key)

    def add(self, key: bytes, value: object) -> None:
        """Create key, which the caller has checked does not exist: set()
        with no TTL to drop (the plain class's, whatever a subclass hooks)."""
        Database.set(self, key, value, True)

    def delete(self, key: bytes) -> bool:
        """Remove key (after lazy expiry). True if it existed."""
        if self.lookup(key) is None:
            return False
        del self.data[key]
        if self.access:
            self.access.pop(key, None)
        if self.string_encodings:
            self.string_encodings.pop(key, None)
        if self.expires and key in self.expires:
            del self.expires[key]
        self.signal_modified(key)
        return True

    def signal_modified(self, key: bytes, dirty: bool = True) -> None:
        """A write touched key: bump dirty (unless the change is an expiry,
        which Redis does not count as a write) and break WATCHes on it."""
        if dirty:
            self.server.dirty += 1
        if self.watched:
            clients = self.watched.get(key)
            if clients:
                for c in clients:
                    c.dirty_cas = True

    def signal_ready(self, key: bytes) -> None:
        """Elements were pushed to key: blocked clients may now be served."""
        if self.blocking_keys and key in self.blocking_keys:
            self.server.blocking.signal_key_ready(self, key)

    def clear(self) -> int:
        """Empty the database (FLUSHDB). Returns how many keys there were."""
        n = len(self.data)
        if self.watched:
            for key, clients in self.watched.items():
                if key in self.data:
                    for c in clients:
                        c.dirty_cas = True
        self.data = {}
        self.expires = {}
        self.string_encodings = {}
        self.access = {}
        self._heap = []
        self._scan_snapshots.clear()
        self.server.dirty += n
        return n

    # -- expiry ------------------------------------------------------------

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        """Give an existing key an absolute deadline in ms."""
        self.expires[key] = when_ms
        heapq.heappush(self._heap, (when_ms, key))
        if len(self._heap) > 2 * len(self.expires) + 1024:
            self._rebuild_heap()

    def persist(self, key: bytes) -> bool:
        if key in self.expires:
            del self.expires[key]
            return True
        return False

    def is_expired(self, key: bytes) -> bool:
        when = self.expires.get(key)
        return when is not None and when <= self.server.now_ms()

    def expire_if_needed(self, key: bytes) -> bool:
        """Delete key if its deadline has passed. True if it was deleted.

        A replica never deletes on its own (its primary sends the DEL); it only
        reports the key as missing. Expiry is suspended while a script or
        MULTI/EXEC runs, as time is frozen there (server.now_ms handles that).
        """
        when = self.expires.get(key)
        if when is None or when > self.server.now_ms():
            return False
        if self.server.is_replica or self.server.clients_paused():
            return True  # reported missing, deleted later (replica: by its primary)
        self._delete_expired(key)
        return True

    def _delete_expired(self, key: bytes) -> None:
        del self.data[key]
        del self.expires[key]
        if self.access:
            self.access.pop(key, None)
        if self.string_encodings:
            self.string_encodings.pop(key, None)
        srv = self.server
        srv.stats.expired_keys += 1
        # Not a write of the command that met the key: dispatch must not
        # propagate a read because of it (the DEL below is the propagation).
        self.signal_modified(key, dirty=False)
        srv.propagate(self.id, [b"DEL", key])
        srv.notify_keyspace_event("x", "expired", key, self.id)

    def _rebuild_heap(self) -> None:
        self._heap = [(w, k) for k, w in self.expires.items()]
        heapq.heapify(self._heap)

    def active_expire(self, now_ms: int, deadline: float, clock) -> int:
        """Delete keys whose deadline has passed, until `clock() >= deadline`.

        Returns how many keys were deleted. See the module docstring.
        """
        heap = self._heap
        expires = self.expires
        n = 0
        while heap and heap[0][0] <= now_ms:
            when, key = heapq.heappop(heap)
            if expires.get(key) == when:
                self._delete_expired(key)
                n += 1
                if n & 63 == 0 and clock() >= deadline:
                    break
        return n

    def expired_backlog(self, now_ms: int) -> bool:
        """True while some heap entry is due (the cron keeps working on it)."""
        return bool(self._heap) and self._heap[0][0] <= now_ms

    # -- iteration ---------------------------------------------------------

    def random_key(self) -> bytes | None:
        """A random live key (expired ones met on the way are deleted)."""
        for _ in range(100):
            if not self.data:
                return None
            # A random position in the dict's order; dicts cannot be sampled
            # directly, but iterating to a random index is cheap for the sizes
            # a test or an admin uses RANDOMKEY on, and bounded by len(data).
            i = random.randrange(len(self.data))
            key = next(_islice_one(self.data, i))
            if not self.expire_if_needed(key):
                return key
        return next(iter(self.data), None)

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One SCAN step over the keys.

        Redis's cursor guarantee (a key present for the whole iteration is
        returned at least once) cannot come from a Python dict's order, which
        deletions shift. So cursor 0 takes a snapshot of the key list (8 bytes a
        key); the cursor encodes (snapshot id, position). A few snapshots are
        kept; an unknown cursor continues over a fresh snapshot from its
        position, as a best effort.
        """
        snaps = self._scan_snapshots
        sid, pos = cursor >> 40, cursor & ((1 << 40) - 1)
        keys = snaps.get(sid) if cursor else None
        if keys is None and pos >= len(self.data):
            return 0, []  # an unknown cursor past the end: nothing left
        if keys is None:
            keys = list(self.data)
            self._scan_seq = sid = (self._scan_seq % 0xFFFFFF) + 1
            snaps[sid] = keys
            while len(snaps) > 8:
                del snaps[next(iter(snaps))]
            if not cursor:
                pos = 0
        out = [k for k in keys[pos:pos + count] if k in self.data]
        pos += count
        if pos >= len(keys):
            snaps.pop(sid, None)
            return 0, out
        return (sid << 40) | pos, out

    def keys_iter(self) -> Iterator[bytes]:
        return iter(list(self.data))


def _islice_one(d: dict, i: int) -> Iterator[bytes]:
    import itertools

    return itertools.islice(d, i, None)
