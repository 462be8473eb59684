"""Key access times: Redis's 24-bit `lru` field of an object, and its arithmetic.

Redis keeps, in every object, either the time of its last access (LRU: seconds
of a clock that wraps at 2**24) or, under an LFU maxmemory-policy, a last
decrement time in minutes (16 bits) beside a logarithmic access counter
(8 bits). OBJECT IDLETIME, OBJECT FREQ, DEBUG OBJECT and RESTORE's IDLETIME /
FREQ read and write it, and eviction will rank keys by it.

kvserver keeps the same field per key, in `Database.access` (a dict beside the
values, as `expires` is): values are plain bytes and containers, with no room
for a header. The keyspace stamps it on creation and on each access through
the command-level lookups (Redis's lookupKey); this module holds the clock and
the LFU arithmetic, so that the field means what it means in Redis, including
its reinterpretation when the policy switches between LRU and LFU at runtime.

One difference, deliberate: the dict costs about 40 bytes a key (a 1M-key
dataset of small strings grows by a fifth), which Redis does not pay, so it is
kept only while maxmemory-policy is an LRU or LFU one, the policies that rank
keys by it. Under the others (noeviction, the default) OBJECT IDLETIME says
so; keys from before a switch count as accessed at the switch.
"""

from __future__ import annotations

import random

LRU_BITS = 24
LRU_CLOCK_MAX = (1 << LRU_BITS) - 1
LRU_CLOCK_RESOLUTION_MS = 1000
LFU_INIT_VAL = 5  # a new key's counter: not evicted before it has a chance to be used
LFU_POLICIES = frozenset(("allkeys-lfu", "volatile-lfu"))
LRU_POLICIES = frozenset(("allkeys-lru", "volatile-lru"))
# The policies that rank keys by access: only under them are access times kept.
TRACKING_POLICIES = LFU_POLICIES | LRU_POLICIES


def lru_clock(now_ms: int) -> int:
    """getLRUClock(): seconds, wrapping at 2**24 (about 194 days)."""
    return (now_ms // LRU_CLOCK_RESOLUTION_MS) & LRU_CLOCK_MAX


def idle_ms(field: int, clock: int) -> int:
    """estimateObjectIdleTime(): ms since the access stamped `field`."""
    if clock >= field:
        return (clock - field) * LRU_CLOCK_RESOLUTION_MS
    return (clock + (LRU_CLOCK_MAX - field)) * LRU_CLOCK_RESOLUTION_MS


def lfu_minutes(now_ms: int) -> int:
    """LFUGetTimeInMinutes(): minutes, wrapping at 2**16."""
    return (now_ms // 60000) & 65535


def lfu_field(minutes: int, counter: int) -> int:
    return (minutes << 8) | counter


def lfu_decr_and_return(field: int, minutes: int, decay_time: int) -> int:
    """LFUDecrAndReturn(): the counter, less one per decay period elapsed
    since the field's time (not stored: an access stores the result)."""
    counter = field & 255
    if not decay_time:
        return counter
    ldt = field >> 8
    elapsed = minutes - ldt if minutes >= ldt else 65535 - ldt + minutes
    periods = elapsed // decay_time
    return 0 if periods > counter else counter - periods


def lfu_log_incr(counter: int, log_factor: int, rand=random.random) -> int:
    """LFULogIncr(): count one access, less likely the higher the counter."""
    if counter == 255:
        return 255
    base = counter - LFU_INIT_VAL
    if base < 0:
        base = 0
    if rand() < 1.0 / (base * log_factor + 1):
        counter += 1
    return counter


def lfu_touch(field: int, minutes: int, decay_time: int, log_factor: int) -> int:
    """updateLFU(): the field after one more access."""
    counter = lfu_log_incr(lfu_decr_and_return(field, minutes, decay_time), log_factor)
    return lfu_field(minutes, counter)


def restored_field(lfu: bool, freq: int, idle_s: int, clock: int, minutes: int) -> int | None:
    """objectSetLRUOrLFU(): the field RESTORE's FREQ / IDLETIME give a key
    (None: the option that applies to the policy was not given). Redis 7.0's
    arithmetic, overflows included: an idle time past the clock's start adds
    one turn of the clock, and the 24-bit field keeps the low bits."""
    if lfu:
        return lfu_field(minutes, freq) if freq >= 0 else None
    if idle_s < 0:
        return None
    scaled = _wrap64(idle_s * 1000)  # lru_idle * lru_multiplier, in a long long
    idle = -(-scaled // LRU_CLOCK_RESOLUTION_MS) if scaled < 0 else scaled // LRU_CLOCK_RESOLUTION_MS
    absolute = _wrap64(clock - idle)
    if absolute < 0:
        absolute += LRU_CLOCK_MAX
    return absolute & LRU_CLOCK_MAX


def _wrap64(n: int) -> int:
    """n as a C long long holds it (two's complement)."""
    return ((n + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)
