"""Pub/sub: the registry of channels, patterns and shard channels, and delivery.

The server keeps, for each channel (and each pattern, each shard channel), the
clients subscribed to it in subscription order (a dict used as an ordered set),
and each client keeps what it is subscribed to (`Client.channels`, `patterns`,
`shard_channels`, and `subscriptions`, their total, which dispatch reads for
RESP2's subscribed mode and check_output_limits for the pubsub buffer class).

Delivery. A message is encoded at most once per protocol (RESP2 array, RESP3
push) whatever the number of receivers, appended to each receiver's output
list, and the receivers are flushed together once the current pass of the
event loop ends (one `call_soon` per pass, not per message). So a pipeline of
PUBLISH commands costs each subscriber one write, and PUBLISH to N subscribers
costs N list appends. A subscriber that does not read accumulates in its
transport's buffer; Client.flush checks it against `client-output-buffer-limit
pubsub` (and the cron re-checks the soft limit's duration), and the server
disconnects it instead of growing without bound.

Messages to the client running the command (a RESP3 client publishing to a
channel it listens to) go to its output before the command's reply, as in
Redis. Tracking invalidations (kvserver.tracking) use `defer_push` instead:
they are sent after the reply of the command that caused them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kvserver.glob import glob_matcher

if TYPE_CHECKING:
    from kvserver.connection import Client
    from kvserver.server import Server

Subscribers = dict  # dict[Client, None]: an ordered set


def matcher(pattern: bytes) -> Callable[[bytes], bool]:
    """Redis's stringmatchlen as pub/sub uses it: unlike KEYS and SCAN, no
    shortcut for `*`, so an empty channel name matches only an empty pattern."""
    m = glob_matcher(pattern)
    if not pattern:
        return lambda s: not s
    return lambda s: bool(s) and m(s)


def _bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


_BODY = b"$%d\r\n%s\r\n$%d\r\n%s\r\n"  # channel and message, as bulk strings
_MESSAGE2 = b"*3\r\n$7\r\nmessage\r\n"
_MESSAGE3 = b">3\r\n$7\r\nmessage\r\n"
_PMESSAGE2 = b"*4\r\n$8\r\npmessage\r\n"
_PMESSAGE3 = b">4\r\n$8\r\npmessage\r\n"
_SMESSAGE2 = b"*3\r\n$8\r\nsmessage\r\n"
_SMESSAGE3 = b">3\r\n$8\r\nsmessage\r\n"


class PubSub:
    """One server's subscriptions (Redis's server.pubsub_channels & co)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.channels: dict[bytes, Subscribers] = {}
        self.patterns: dict[bytes, Subscribers] = {}
        self.shard_channels: dict[bytes, Subscribers] = {}
        self._matchers: dict[bytes, Callable[[bytes], bool]] = {}

    # -- subscribing ---------------------------------------------------------------

    def subscribe(self, c: Client, channel: bytes) -> bool:
        """Add channel to c's subscriptions; False if it was there already."""
        return self._add(c, c.channels, self.channels, channel)

    def unsubscribe(self, c: Client, channel: bytes) -> bool:
        return self._remove(c, c.channels, self.channels, channel)

    def ssubscribe(self, c: Client, channel: bytes) -> bool:
        return self._add(c, c.shard_channels, self.shard_channels, channel)

    def sunsubscribe(self, c: Client, channel: bytes) -> bool:
        return self._remove(c, c.shard_channels, self.shard_channels, channel)

    def psubscribe(self, c: Client, pattern: bytes) -> bool:
        if not self._add(c, c.patterns, self.patterns, pattern):
            return False
        if pattern not in self._matchers:
            self._matchers[pattern] = matcher(pattern)
        return True

    def punsubscribe(self, c: Client, pattern: bytes) -> bool:
        if not self._remove(c, c.patterns, self.patterns, pattern):
            return False
        if pattern not in self.patterns:
            self._matchers.pop(pattern, None)
        return True

    @staticmethod
    def _add(c: Client, mine: dict, registry: dict[bytes, Subscribers], name: bytes) -> bool:
        if name in mine:
            return False
        mine[name] = None
        subs = registry.get(name)
        if subs is None:
            registry[name] = {c: None}
        else:
            subs[c] = None
        c.subscriptions += 1
        return True

    @staticmethod
    def _remove(c: Client, mine: dict, registry: dict[bytes, Subscribers], name: bytes) -> bool:
        if name not in mine:
            return False
        del mine[name]
        subs = registry.get(name)
        if subs is not None:
            subs.pop(c, None)
            if not subs:  # no empty entries: PUBSUB CHANNELS lists live ones only
                del registry[name]
        c.subscriptions -= 1
        return True

    def unsubscribe_all(self, c: Client) -> None:
        """Drop every subscription of c, silently (disconnect, RESET)."""
        for ch in list(c.channels):
            self.unsubscribe(c, ch)
        for ch in list(c.shard_channels):
            self.sunsubscribe(c, ch)
        for p in list(c.patterns):
            self.punsubscribe(c, p)
        c.subscriptions = 0

    # -- publishing --------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver message to channel's subscribers and matching patterns'
        subscribers; returns how many deliveries were made (PUBLISH's reply)."""
        n = 0
        body = None
        subs = self.channels.get(channel)
        if subs:
            body = _BODY % (len(channel), channel, len(message), message)
            n = self._deliver(subs, _MESSAGE2, _MESSAGE3, body)
        if self.patterns:
            for pattern, matches in self._matchers.items():
                if matches(channel):
                    if body is None:
                        body = _BODY % (len(channel), channel, len(message), message)
                    n += self._deliver(self.patterns[pattern], _PMESSAGE2, _PMESSAGE3,
                                       _bulk(pattern) + body)
        return n

    def spublish(self, channel: bytes, message: bytes) -> int:
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        return self._deliver(subs, _SMESSAGE2, _SMESSAGE3,
                             _BODY % (len(channel), channel, len(message), message))

    def _deliver(self, subs: Subscribers, head2: bytes, head3: bytes, body: bytes) -> int:
        m2 = m3 = None
        flush_later = self.server.flush_later
        for c in subs:
            if c.resp3:
                if m3 is None:
                    m3 = head3 + body
                c.out.append(m3)
            else:
                if m2 is None:
                    m2 = head2 + body
                c.out.append(m2)
            flush_later(c)
        return len(subs)

    # -- output -----------------------------------------------------------------------

    def send(self, c: Client, data: bytes) -> None:
        """Queue pre-encoded output for c (not the client running the command)
        and flush it at the end of this event-loop pass."""
        c.out.append(data)
        self.server.flush_later(c)

    def defer_push(self, c: Client, data: bytes) -> None:
        """Queue a push for c that must follow the reply c is being given, if
        any (Client.flush appends deferred pushes after the replies)."""
        d = c.deferred_pushes
        if d is None:
            c.deferred_pushes = [data]
        else:
            d.append(data)
        self.server.flush_later(c)

    # -- introspection ----------------------------------------------------------------

    def numsub(self, channel: bytes) -> int:
        subs = self.channels.get(channel)
        return len(subs) if subs else 0

    def shard_numsub(self, channel: bytes) -> int:
        subs = self.shard_channels.get(channel)
        return len(subs) if subs else 0


def client_closed(c: Client) -> None:
    """server.client_close_hooks: a disconnected client leaves every channel."""
    if c.subscriptions:
        c.server.pubsub.unsubscribe_all(c)
