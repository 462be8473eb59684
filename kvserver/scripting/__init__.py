"""Lua scripting (EVAL) and Redis 7 functions (FUNCTION / FCALL).

- prelude: the Lua side (sandbox, redis table, Lua -> RESP conversion)
- engine: a Lua state (lupa.lua51) and redis.call
- state: per-server state, running a script, the EVAL script cache
- busy: scripts that run longer than busy-reply-threshold
- functions: FUNCTION libraries, their DUMP/RESTORE payload
- libs: cjson, cmsgpack, bit, struct
"""
