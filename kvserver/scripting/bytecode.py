"""Strip the debug information from a Lua 5.1 binary chunk (what `luac -s`
does): the prelude's line numbers and local names would otherwise take most
of the Lua memory a fresh interpreter reports (INFO used_memory_lua, which
Redis's tests expect to stay small). Source names are kept: the error
handler recognises the prelude's frames by them.
"""

from __future__ import annotations


def strip(chunk: bytes) -> bytes:
    if chunk[:5] != b"\x1bLua\x51":
        raise ValueError("not a Lua 5.1 binary chunk")
    little = chunk[6] == 1
    int_size, size_t_size, instr_size, num_size = chunk[7], chunk[8], chunk[9], chunk[10]
    order = "little" if little else "big"
    out = bytearray(chunk[:12])
    pos = 12

    def read_int(size: int) -> int:
        nonlocal pos
        v = int.from_bytes(chunk[pos:pos + size], order)
        pos += size
        return v

    def copy(n: int) -> None:
        nonlocal pos
        out.extend(chunk[pos:pos + n])
        pos += n

    def copy_string() -> None:
        n = read_int(size_t_size)
        out.extend(n.to_bytes(size_t_size, order))
        copy(n)

    def skip_string() -> None:
        nonlocal pos
        n = read_int(size_t_size)
        pos += n

    zero_int = (0).to_bytes(int_size, order)

    def function() -> None:
        nonlocal pos
        copy_string()                # source
        copy(2 * int_size + 4)       # linedefined, lastlinedefined, nups, params, vararg, stack
        n = read_int(int_size)       # code
        out.extend(n.to_bytes(int_size, order))
        copy(n * instr_size)
        n = read_int(int_size)       # constants
        out.extend(n.to_bytes(int_size, order))
        for _ in range(n):
            t = chunk[pos]
            copy(1)
            if t == 1:
                copy(1)
            elif t == 3:
                copy(num_size)
            elif t == 4:
                copy_string()
        n = read_int(int_size)       # nested functions
        out.extend(n.to_bytes(int_size, order))
        for _ in range(n):
            function()
        # debug information: line info, local variables, upvalue names
        n = read_int(int_size)
        pos += n * int_size
        n = read_int(int_size)
        for _ in range(n):
            skip_string()
            pos += 2 * int_size
        n = read_int(int_size)
        for _ in range(n):
            skip_string()
        out.extend(zero_int * 3)

    function()
    return bytes(out)
