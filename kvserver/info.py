"""INFO: Redis 7.0's sections and field names, filled with kvserver's numbers.

Sections come in Redis's fixed order whatever order they were asked in; the
names are case-insensitive; "default", "all" and "everything" select groups as
in Redis. A field kvserver has no counterpart for (forks, allocator internals,
cluster) gets the value Redis reports when that feature is idle, so tools that
parse INFO find every field they know.

Memory. Redis reports what its allocator handed out. A Python process has no
such counter short of tracemalloc (too slow to leave on), so `used_memory` is
the resident set size read from /proc/self/statm, and `used_memory_startup` the
RSS when the server started listening; the dataset is what grew beyond that and
beyond client buffers. MEMORY USAGE estimates one key with sys.getsizeof over
the value and its elements, sampling big aggregates as Redis does.

Features that own numbers shown here (replication, persistence, scripting,
pub/sub, tracking) call `register_info_fields(section, fn)`: fn(server) returns
a dict of fields that replace the defaults of that name or are appended.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import hashlib
import itertools
import os
import platform
import resource
import sys
import time
import weakref
from collections.abc import Callable
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import TYPE_CHECKING

from kvserver import REDIS_COMPAT_VERSION, __version__
from kvserver.server import Server
from kvserver.table import all_commands

if TYPE_CHECKING:
    from kvserver.keyspace import Database

Fields = dict[str, object]

DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication",
                    "cpu", "module_list", "errorstats", "cluster", "keyspace")

_PROVIDERS: dict[str, list[Callable[[Server], Fields]]] = {}


def register_info_fields(section: str, fn: Callable[[Server], Fields]) -> None:
    """Let a feature fill (or add) fields of an INFO section."""
    _PROVIDERS.setdefault(section, []).append(fn)


# -- per-server state INFO keeps for itself ----------------------------------------

class _State:
    __slots__ = ("startup_rss", "peak", "net_sample")

    def __init__(self) -> None:
        self.startup_rss = rss_bytes()
        self.peak = self.startup_rss
        self.net_sample: tuple[float, int, int] | None = None


_states: weakref.WeakKeyDictionary[Server, _State] = weakref.WeakKeyDictionary()


def _state(srv: Server) -> _State:
    st = _states.get(srv)
    if st is None:
        st = _states[srv] = _State()
    return st


# The startup figure is taken when the server starts listening, before any data.
Server.start_hooks.append(_state)


# -- memory figures ------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """The process's resident set size."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        # Elsewhere: the peak RSS is the best figure the OS gives cheaply.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def used_memory(srv: Server | None = None) -> int:
    """used_memory: the process RSS (see the module docstring). Updates the peak."""
    n = rss_bytes()
    if srv is not None:
        st = _state(srv)
        if n > st.peak:
            st.peak = n
    return n


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * _PAGE
    except (ValueError, OSError, AttributeError):
        return 0


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: 1023B, 1.00K, 2.50M, ..."""
    if n < 1024:
        return f"{n}B"
    for i, unit in enumerate("KMGTP", 1):
        if n < 1024 ** (i + 1):
            return f"{n / 1024 ** i:.2f}{unit}"
    return f"{n}B"


def _client_buffers(c) -> int:
    n = len(c.pending) if c.pending is not None else 0
    t = c.transport
    if t is not None:
        try:
            n += t.get_write_buffer_size()
        except Exception:  # noqa: BLE001 -- a closing transport
            pass
    return n


def memory_overhead(srv: Server) -> Fields:
    """Redis's getMemoryOverheadData, with kvserver's measures."""
    used = used_memory(srv)
    st = _state(srv)
    normal = replicas = 0
    for c in srv.clients.values():
        if c.is_replica_link:
            replicas += _client_buffers(c)
        else:
            normal += _client_buffers(c)
    dbs = []
    total_keys = 0
    overhead = st.startup_rss + normal + replicas
    for db in srv.dbs:
        if not db.data:
            continue
        total_keys += len(db.data)
        main = sys.getsizeof(db.data)
        expires = sys.getsizeof(db.expires) + sys.getsizeof(db._heap)
        dbs.append((db.id, main, expires))
        overhead += main + expires
    net = used - st.startup_rss if used > st.startup_rss else 1
    dataset = max(used - overhead, 0)
    return {
        "peak": st.peak, "used": used, "startup": st.startup_rss,
        "clients_normal": normal, "clients_slaves": replicas,
        "dbs": dbs, "overhead": overhead, "keys": total_keys,
        "bytes_per_key": net // total_keys if total_keys else 0,
        "dataset": dataset, "dataset_perc": dataset * 100.0 / net,
        "peak_perc": used * 100.0 / st.peak if st.peak else 100.0,
    }


def memory_stats(srv: Server) -> dict:
    """MEMORY STATS."""
    mh = memory_overhead(srv)
    used = mh["used"]
    out: dict = {
        b"peak.allocated": mh["peak"],
        b"total.allocated": used,
        b"startup.allocated": mh["startup"],
        b"replication.backlog": 0,
        b"clients.slaves": mh["clients_slaves"],
        b"clients.normal": mh["clients_normal"],
        b"cluster.links": 0,
        b"aof.buffer": 0,
        b"lua.caches": 0,
        b"functions.caches": 0,
    }
    for dbid, main, expires in mh["dbs"]:
        out[b"db.%d" % dbid] = {b"overhead.hashtable.main": main,
                                b"overhead.hashtable.expires": expires,
                                b"overhead.hashtable.slot-to-keys": 0}
    out.update({
        b"overhead.total": mh["overhead"],
        b"keys.count": mh["keys"],
        b"keys.bytes-per-key": mh["bytes_per_key"],
        b"dataset.bytes": mh["dataset"],
        b"dataset.percentage": float(mh["dataset_perc"]),
        b"peak.percentage": float(mh["peak_perc"]),
        # No separate allocator: RSS is the one figure, so these ratios are 1.
        b"allocator.allocated": used,
        b"allocator.active": used,
        b"allocator.resident": used,
        b"allocator-fragmentation.ratio": 1.0,
        b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": 1.0,
        b"allocator-rss.bytes": 0,
        b"rss-overhead.ratio": 1.0,
        b"rss-overhead.bytes": 0,
        b"fragmentation": 1.0,
        b"fragmentation.bytes": 0,
    })
    return out


def memory_doctor(srv: Server) -> str:
    """MEMORY DOCTOR: Redis's checks that apply here, in Redis's words."""
    mh = memory_overhead(srv)
    grown = mh["used"] - mh["startup"]
    if grown < 5 * 1024 * 1024:  # Redis: total_allocated < 5MB
        return ("Hi Sam, this instance is empty or is using very little memory, my issues "
                "detector can't be used in these conditions. Please, leave for your mission on "
                "Earth and fill it with some data. The new Sam and I will be back to our "
                "programming as soon as I finished rebooting.\n")
    reports = []
    if mh["peak"] / mh["used"] > 1.5:
        reports.append(
            " * Peak memory: In the past this instance used more than 150% the memory that is "
            "currently using. The allocator is normally not able to release memory after a "
            "peak, so you can expect to see a big fragmentation ratio, however this is "
            "actually harmless and is only due to the memory peak, and if the Redis instance "
            "Resident Set Size (RSS) is currently bigger than expected, the memory will be "
            "used as soon as you fill the Redis instance with more data. If the memory peak "
            "was only occasional and you want to try to reclaim memory, please try the MEMORY "
            "PURGE command, otherwise the only other option is to shutdown and restart the "
            "instance.\n\n")
    nclients = sum(1 for c in srv.clients.values() if not c.is_replica_link)
    if nclients and mh["clients_normal"] // nclients > 1024 * 200:
        reports.append(
            " * Big client buffers: The clients output buffers in this instance are greater "
            "than 200K per client (on average). This may result from different causes, like "
            "Pub/Sub clients subscribed to channels bot not receiving data fast enough, so "
            "that data piles on the Redis instance output buffer, or clients sending commands "
            "with large replies or very large sequences of commands in the same pipeline. "
            "Please use the CLIENT LIST command in order to investigate the issue if it "
            "causes problems in your instance, or to understand better why certain clients "
            "are using a big amount of memory.\n\n")
    if not reports:
        return ("Hi Sam, I can't find any memory issue in your instance. I can only account "
                "for what occurs on this base.\n")
    return ("Sam, I detected a few issues in this Redis instance memory implants:\n\n"
            + "".join(reports) + "I'm here to keep you safe, Sam. I want to help you.\n")


def malloc_trim() -> None:
    """MEMORY PURGE: hand free heap pages back to the OS (glibc only)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


# -- MEMORY USAGE ---------------------------------------------------------------------

DEFAULT_SAMPLES = 5  # OBJ_COMPUTE_SIZE_DEF_SAMPLES
_ATOMS = (bytes, str, int, float, bool, type(None), bytearray)
_NOT_DATA = (type, ModuleType, FunctionType, BuiltinFunctionType, MethodType)
_SEQUENCES = (list, tuple, set, frozenset, collections.deque)
_DICT_ENTRY = 32  # a CPython dict entry (hash, key, value) plus its index slot


def deep_size(obj: object, samples: int = DEFAULT_SAMPLES, _depth: int = 0) -> int:
    """sys.getsizeof of obj and what it holds. Containers with more than
    `samples` elements are measured on the first `samples` and extrapolated."""
    size = sys.getsizeof(obj)
    if isinstance(obj, _ATOMS) or _depth > 12:
        return size
    n = 0
    if isinstance(obj, dict):
        n = len(obj)
        children = itertools.chain.from_iterable(itertools.islice(obj.items(), samples))
        per = 2
    elif isinstance(obj, _SEQUENCES):
        n = len(obj)
        children = itertools.islice(iter(obj), samples)
        per = 1
    else:
        children = None
        per = 1
    if children is not None:
        taken = 0
        sub = 0
        for ch in children:
            sub += deep_size(ch, samples, _depth + 1)
            taken += 1
        if taken:
            size += int(sub * (n * per) / taken)
        # A subclass (SortedDict, ...) also carries instance attributes.
        if getattr(obj, "__dict__", None):
            size += deep_size(obj.__dict__, samples, _depth + 1)
        return size
    for ch in gc.get_referents(obj):
        if not isinstance(ch, _NOT_DATA):
            size += deep_size(ch, samples, _depth + 1)
    return size


def key_memory_usage(db: Database, key: bytes, value: object, samples: int) -> int:
    """MEMORY USAGE: the key, its value and its entries in the keyspace dicts."""
    n = sys.getsizeof(key) + _DICT_ENTRY + deep_size(value, samples)
    when = db.expires.get(key)
    if when is not None:
        n += _DICT_ENTRY + sys.getsizeof(when)
    return n


# -- the sections ------------------------------------------------------------------------

def _build_id() -> str:
    return hashlib.sha1(f"kvserver-{__version__}".encode()).hexdigest()[:15]


_UNAME = platform.uname()
_GCC = platform.python_compiler()


def _gcc_version() -> str:
    # The compiler that built the interpreter running us: "GCC 12.2.0" -> 12.2.0.
    parts = _GCC.split()
    if len(parts) >= 2 and parts[0] == "GCC":
        nums = (parts[1].split(".") + ["0", "0", "0"])[:3]
        if all(x.isdigit() for x in nums):
            return ".".join(nums)
    return "0.0.0"


def _multiplexing_api() -> str:
    if sys.platform.startswith("linux"):
        return "epoll"
    if sys.platform == "darwin" or "bsd" in sys.platform:
        return "kqueue"
    return "select"


def _sec_server(srv: Server) -> Fields:
    cfg = srv.config
    now_us = time.time_ns() // 1000 + srv.clock_offset_ms * 1000
    uptime = max(0, int(now_us / 1e6 - srv.start_time))
    supervised = cfg.supervised if cfg.supervised in ("upstart", "systemd") else "no"
    listening_tcp = bool(cfg.port or srv.ephemeral_port)
    return {
        "redis_version": REDIS_COMPAT_VERSION,
        "kvserver_version": __version__,
        "redis_git_sha1": "00000000",
        "redis_git_dirty": 0,
        "redis_build_id": _build_id(),
        "redis_mode": "standalone",
        "os": f"{_UNAME.system} {_UNAME.release} {_UNAME.machine}",
        "arch_bits": 64 if sys.maxsize > 2**32 else 32,
        "monotonic_clock": "POSIX clock_gettime",
        "multiplexing_api": _multiplexing_api(),
        "atomicvar_api": "none",
        "gcc_version": _gcc_version(),
        "process_id": os.getpid(),
        "process_supervised": supervised,
        "run_id": srv.run_id,
        "tcp_port": srv.port if listening_tcp else 0,
        "server_time_usec": now_us,
        "uptime_in_seconds": uptime,
        "uptime_in_days": uptime // 86400,
        "hz": cfg.hz,
        "configured_hz": cfg.hz,
        "lru_clock": (now_us // 1_000_000) & ((1 << 24) - 1),
        "executable": sys.executable or "",
        "config_file": cfg.file or "",
        "io_threads_active": 0,
    }


def _sec_clients(srv: Server) -> Fields:
    clients = srv.clients.values()
    max_in = max_out = 0
    tracking = timeouts = replicas = paused = 0
    for c in clients:
        if c.is_replica_link:
            replicas += 1
        if c.queued_argv and c.blocked is None and srv.pause_until:
            paused += 1  # held by CLIENT PAUSE: Redis counts it as blocked
        if c.pending is not None and len(c.pending) > max_in:
            max_in = len(c.pending)
        t = c.transport
        if t is not None:
            try:
                out = t.get_write_buffer_size()
            except Exception:  # noqa: BLE001
                out = 0
            if out > max_out:
                max_out = out
        if c.tracking is not None:
            tracking += 1
        if c.blocked is not None and c.blocked.timer is not None:
            timeouts += 1
    return {
        "connected_clients": len(srv.clients) - replicas,
        "cluster_connections": 0,
        "maxclients": srv.config.maxclients,
        "client_recent_max_input_buffer": max_in,
        "client_recent_max_output_buffer": max_out,
        "blocked_clients": srv.blocking.blocked_count + paused,
        "tracking_clients": tracking,
        "clients_in_timeout_table": timeouts,
    }


def _sec_memory(srv: Server) -> Fields:
    mh = memory_overhead(srv)
    used = mh["used"]
    peak = mh["peak"]
    total = _total_system_memory()
    maxmem = srv.config.maxmemory
    return {
        "used_memory": used,
        "used_memory_human": bytes_to_human(used),
        "used_memory_rss": used,
        "used_memory_rss_human": bytes_to_human(used),
        "used_memory_peak": peak,
        "used_memory_peak_human": bytes_to_human(peak),
        "used_memory_peak_perc": f"{mh['peak_perc']:.2f}%",
        "used_memory_overhead": mh["overhead"],
        "used_memory_startup": mh["startup"],
        "used_memory_dataset": mh["dataset"],
        "used_memory_dataset_perc": f"{mh['dataset_perc']:.2f}%",
        "allocator_allocated": used,
        "allocator_active": used,
        "allocator_resident": used,
        "total_system_memory": total,
        "total_system_memory_human": bytes_to_human(total),
        "used_memory_lua": 0,
        "used_memory_vm_eval": 0,
        "used_memory_lua_human": "0B",
        "used_memory_scripts_eval": 0,
        "number_of_cached_scripts": 0,
        "number_of_functions": 0,
        "number_of_libraries": 0,
        "used_memory_vm_functions": 0,
        "used_memory_vm_total": 0,
        "used_memory_vm_total_human": "0B",
        "used_memory_functions": 0,
        "used_memory_scripts": 0,
        "used_memory_scripts_human": "0B",
        "maxmemory": maxmem,
        "maxmemory_human": bytes_to_human(maxmem),
        "maxmemory_policy": srv.config.maxmemory_policy,
        "allocator_frag_ratio": "1.00",
        "allocator_frag_bytes": 0,
        "allocator_rss_ratio": "1.00",
        "allocator_rss_bytes": 0,
        "rss_overhead_ratio": "1.00",
        "rss_overhead_bytes": 0,
        "mem_fragmentation_ratio": "1.00",
        "mem_fragmentation_bytes": 0,
        "mem_not_counted_for_evict": 0,
        "mem_replication_backlog": 0,
        "mem_total_replication_buffers": 0,
        "mem_clients_slaves": mh["clients_slaves"],
        "mem_clients_normal": mh["clients_normal"],
        "mem_cluster_links": 0,
        "mem_aof_buffer": 0,
        "mem_allocator": "pymalloc",
        "active_defrag_running": 0,
        "lazyfree_pending_objects": 0,
        "lazyfreed_objects": 0,
    }


def _sec_persistence(srv: Server) -> Fields:
    return {
        "loading": 0,
        "async_loading": 0,
        "current_cow_peak": 0,
        "current_cow_size": 0,
        "current_cow_size_age": 0,
        "current_fork_perc": "0.00",
        "current_save_keys_processed": 0,
        "current_save_keys_total": 0,
        "rdb_changes_since_last_save": srv.dirty,
        "rdb_bgsave_in_progress": 0,
        "rdb_last_save_time": srv.lastsave,
        "rdb_last_bgsave_status": "ok",
        "rdb_last_bgsave_time_sec": -1,
        "rdb_current_bgsave_time_sec": -1,
        "rdb_saves": 0,
        "rdb_last_cow_size": 0,
        "rdb_last_load_keys_expired": 0,
        "rdb_last_load_keys_loaded": 0,
        "aof_enabled": 0,
        "aof_rewrite_in_progress": 0,
        "aof_rewrite_scheduled": 0,
        "aof_last_rewrite_time_sec": -1,
        "aof_current_rewrite_time_sec": -1,
        "aof_last_bgrewrite_status": "ok",
        "aof_rewrites": 0,
        "aof_rewrites_consecutive_failures": 0,
        "aof_last_write_status": "ok",
        "aof_last_cow_size": 0,
        "module_fork_in_progress": 0,
        "module_fork_last_cow_size": 0,
    }


def net_bytes(srv: Server) -> tuple[int, int]:
    """Total bytes read from and written to clients (live and closed)."""
    st = srv.stats
    nin = st.net_input_bytes_closed
    nout = st.net_output_bytes_closed
    for c in srv.clients.values():
        nin += c.net_in
        nout += c.net_out
    return nin, nout


def _net_kbps(srv: Server, nin: int, nout: int) -> tuple[float, float]:
    # The rate since the previous INFO (redis-cli --stat asks every second);
    # Redis averages its own samples over the last ~1.6 s.
    st = _state(srv)
    now = time.monotonic()
    prev = st.net_sample
    st.net_sample = (now, nin, nout)
    if prev is None or now - prev[0] <= 0 or now - prev[0] > 60:
        return 0.0, 0.0
    dt = now - prev[0]
    return max(nin - prev[1], 0) / dt / 1024, max(nout - prev[2], 0) / dt / 1024


def _pubsub_counts(srv: Server) -> tuple[int, int, int]:
    chans: set[bytes] = set()
    pats: set[bytes] = set()
    shard: set[bytes] = set()
    for c in srv.clients.values():
        if c.subscriptions or c.shard_channels:
            chans.update(c.channels)
            pats.update(c.patterns)
            shard.update(c.shard_channels)
    return len(chans), len(pats), len(shard)


def _sec_stats(srv: Server) -> Fields:
    st = srv.stats
    nin, nout = net_bytes(srv)
    kin, kout = _net_kbps(srv, nin, nout)
    chans, pats, shard = _pubsub_counts(srv)
    return {
        "total_connections_received": st.total_connections_received,
        "total_commands_processed": srv.total_commands_processed(),
        "instantaneous_ops_per_sec": srv.instantaneous_ops(),
        "total_net_input_bytes": nin,
        "total_net_output_bytes": nout,
        "total_net_repl_input_bytes": 0,
        "total_net_repl_output_bytes": 0,
        "instantaneous_input_kbps": f"{kin:.2f}",
        "instantaneous_output_kbps": f"{kout:.2f}",
        "instantaneous_input_repl_kbps": "0.00",
        "instantaneous_output_repl_kbps": "0.00",
        "rejected_connections": st.rejected_connections,
        "sync_full": 0,
        "sync_partial_ok": 0,
        "sync_partial_err": 0,
        "expired_keys": st.expired_keys,
        "expired_stale_perc": f"{st.expired_stale_perc * 100:.2f}",
        "expired_time_cap_reached_count": st.expired_time_cap_reached_count,
        "expire_cycle_cpu_milliseconds": 0,
        "evicted_keys": st.evicted_keys,
        "evicted_clients": st.evicted_clients,
        "total_eviction_exceeded_time": 0,
        "current_eviction_exceeded_time": 0,
        "keyspace_hits": st.keyspace_hits,
        "keyspace_misses": st.keyspace_misses,
        "pubsub_channels": chans,
        "pubsub_patterns": pats,
        "pubsubshard_channels": shard,
        "latest_fork_usec": 0,
        "total_forks": 0,
        "migrate_cached_sockets": 0,
        "slave_expires_tracked_keys": 0,
        "active_defrag_hits": 0,
        "active_defrag_misses": 0,
        "active_defrag_key_hits": 0,
        "active_defrag_key_misses": 0,
        "total_active_defrag_time": 0,
        "current_active_defrag_time": 0,
        "tracking_total_keys": 0,
        "tracking_total_items": 0,
        "tracking_total_prefixes": 0,
        "unexpected_error_replies": st.unexpected_error_replies,
        "total_error_replies": st.total_error_replies,
        "dump_payload_sanitizations": st.dump_payload_sanitizations,
        "total_reads_processed": st.total_reads_processed,
        "total_writes_processed": st.total_writes_processed,
        "io_threaded_reads_processed": st.io_threaded_reads_processed,
        "io_threaded_writes_processed": st.io_threaded_writes_processed,
        "reply_buffer_shrinks": 0,
        "reply_buffer_expands": 0,
    }


def replication_ids(srv: Server) -> tuple[str, str]:
    """(replid, replid2): 40 hex characters each, as Redis keeps them."""
    rid = getattr(srv, "replid", None)
    if rid is None:
        rid = srv.replid = os.urandom(20).hex()
    return rid, getattr(srv, "replid2", "0" * 40)


def _sec_replication(srv: Server) -> Fields:
    cfg = srv.config
    rid, rid2 = replication_ids(srv)
    f: Fields = {"role": "slave" if srv.is_replica else "master", "connected_slaves": 0}
    if cfg.min_replicas_to_write and cfg.min_replicas_max_lag:
        f["min_slaves_good_slaves"] = 0
    f.update({
        "master_failover_state": "no-failover",
        "master_replid": rid,
        "master_replid2": rid2,
        "master_repl_offset": getattr(srv, "master_repl_offset", 0),
        "second_repl_offset": -1,
        "repl_backlog_active": 0,
        "repl_backlog_size": cfg.repl_backlog_size,
        "repl_backlog_first_byte_offset": 0,
        "repl_backlog_histlen": 0,
    })
    return f


def _sec_cpu(srv: Server) -> Fields:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    f: Fields = {
        "used_cpu_sys": f"{me.ru_stime:.6f}",
        "used_cpu_user": f"{me.ru_utime:.6f}",
        "used_cpu_sys_children": f"{ch.ru_stime:.6f}",
        "used_cpu_user_children": f"{ch.ru_utime:.6f}",
    }
    if hasattr(resource, "RUSAGE_THREAD"):
        # INFO runs on the thread that runs every command: the "main thread".
        th = resource.getrusage(resource.RUSAGE_THREAD)
        f["used_cpu_sys_main_thread"] = f"{th.ru_stime:.6f}"
        f["used_cpu_user_main_thread"] = f"{th.ru_utime:.6f}"
    return f


def _safe(name: str) -> str:
    # getSafeInfoString: the characters that would break INFO's line format.
    return name.translate(_UNSAFE)


_UNSAFE = str.maketrans("#:\n\r", "____")


def _commandstats_lines(srv: Server) -> list[str]:
    out = []
    for spec in all_commands():
        if spec.calls or spec.failed_calls or spec.rejected_calls:
            usec = spec.usec // 1000  # spec.usec counts nanoseconds
            per = usec / spec.calls if spec.calls else 0.0
            out.append(f"cmdstat_{_safe(spec.fullname)}:calls={spec.calls},usec={usec},"
                       f"usec_per_call={per:.2f},rejected_calls={spec.rejected_calls},"
                       f"failed_calls={spec.failed_calls}")
    return out


def _errorstats_lines(srv: Server) -> list[str]:
    es = srv.stats.errorstats
    # Redis keeps them in a radix tree: byte order.
    return [f"errorstat_{_safe(code)}:count={es[code]}"
            for code in sorted(es, key=lambda s: s.encode("utf-8", "replace"))]


def _avg_ttl(db, now_ms: int) -> int:
    """An estimate of the keys' remaining TTL in ms, like Redis's (which
    samples keys in its active expiry cycle): the mean over up to 64 of them."""
    if db.avg_ttl or not db.expires:
        return db.avg_ttl
    left = [w - now_ms for w in itertools.islice(db.expires.values(), 64)]
    left = [x for x in left if x > 0]
    return sum(left) // len(left) if left else 0


def _keyspace_lines(srv: Server) -> list[str]:
    now = srv.now_ms()
    return [f"db{db.id}:keys={len(db.data)},expires={len(db.expires)},"
            f"avg_ttl={_avg_ttl(db, now)}"
            for db in srv.dbs if db.data or db.expires]


def _fields(section: str, base: Fields, srv: Server) -> list[str]:
    for fn in _PROVIDERS.get(section, ()):
        base.update(fn(srv))
    return [f"{k}:{v}" for k, v in base.items()]


# (section name as asked, header, line builder); Redis's order.
_SECTIONS: list[tuple[str, str, Callable[[Server], list[str]]]] = [
    ("server", "Server", lambda s: _fields("server", _sec_server(s), s)),
    ("clients", "Clients", lambda s: _fields("clients", _sec_clients(s), s)),
    ("memory", "Memory", lambda s: _fields("memory", _sec_memory(s), s)),
    ("persistence", "Persistence", lambda s: _fields("persistence", _sec_persistence(s), s)),
    ("stats", "Stats", lambda s: _fields("stats", _sec_stats(s), s)),
    ("replication", "Replication", lambda s: _fields("replication", _sec_replication(s), s)),
    ("cpu", "CPU", lambda s: _fields("cpu", _sec_cpu(s), s)),
    ("modules", "Modules", lambda s: []),
    ("commandstats", "Commandstats", _commandstats_lines),
    ("errorstats", "Errorstats", _errorstats_lines),
    # Latency percentiles need per-command histograms, which kvserver does not keep.
    ("latencystats", "Latencystats", lambda s: []),
    ("cluster", "Cluster", lambda s: ["cluster_enabled:0"]),
    ("keyspace", "Keyspace", _keyspace_lines),
]


def info_text(srv: Server, args: list[bytes]) -> bytes:
    """The INFO reply text for the requested sections."""
    wanted: set[str] = set()
    everything = False
    if not args:
        wanted.update(DEFAULT_SECTIONS)
    for a in args:
        name = a.decode("utf-8", "replace").lower()
        if name == "default":
            wanted.update(DEFAULT_SECTIONS)
        elif name in ("all", "everything"):
            everything = True
        else:
            wanted.add(name)
    if "module_list" in wanted:
        wanted.add("modules")
    parts = []
    for name, header, build in _SECTIONS:
        if everything or name in wanted:
            lines = [f"# {header}", *build(srv)]
            parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts).encode("utf-8", "replace")


def info_dict(srv: Server, section: str) -> dict[str, str]:
    """One section's fields as strings (for code that reads INFO fields)."""
    text = info_text(srv, [section.encode()]).decode()
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = v
    return out


# -- CONFIG RESETSTAT ----------------------------------------------------------------------

def reset_stats(srv: Server) -> None:
    """CONFIG RESETSTAT: server counters, error and command statistics.
    The slow log, the memory peak and the dataset stay."""
    live_in, live_out = 0, 0
    for c in srv.clients.values():
        live_in += c.net_in
        live_out += c.net_out
    srv.stats.reset()
    # total_net_*_bytes = live clients' counters + closed ones: start it at 0.
    srv.stats.net_input_bytes_closed = -live_in
    srv.stats.net_output_bytes_closed = -live_out
    srv.ops_samples.clear()
    _state(srv).net_sample = None
    for spec in all_commands():
        spec.reset_stats()
