"""The Lua side of the scripting engine: run once in each fresh Lua state.

It turns lupa's stock Lua 5.1 into Redis 7.0's: only the globals Redis
keeps, library and global tables that cannot be modified ("Attempt to modify
a readonly table"), reads of missing globals that fail ("Script attempted to
access nonexistent global variable"), Redis's `pcall`, the error handler that
records where an error happened, and the conversion of a script's return
value to RESP (done in Lua because it must read tables with raw access and
iterate them in Lua's own order).

Redis patches its Lua to support read-only tables; stock Lua has no such
flag, so a protected table is an empty proxy whose metatable reads through to
the real table and refuses writes. The global table itself becomes such a
proxy: its contents move to a hidden table. Builtins that would see through a
proxy (rawset, rawget, setmetatable, getmetatable, next, pairs, ipairs) are
wrapped, reproducing the argument errors of the builtin they replace.

The functions of `redis`, `math.random`, cjson, cmsgpack, bit and struct are
Python callables (C functions, as far as Lua knows). They fail by raising
kvserver.scripting.luaerr.LuaRaise; `convert` turns that into the error
value Redis's C code would raise (a table {err=...} for redis.call, a string
with the caller's position for luaL_error/luaL_argerror), while the stack is
still there to tell the position and the function's name. `type()` reports
them as functions.

Frames of this chunk ("=kvserver") are skipped when the error handler looks
for the line that raised an error.

The chunk receives a table of Python objects (`py`) and the flavour ("eval"
for EVAL scripts, "function" for FUNCTION libraries) and returns the entry
points the Python engine uses. Sections only one flavour needs are marked
`--@eval-begin/end` and `--@function-begin/end`; `source()` cuts the others
out (every byte of code costs Lua memory, which INFO reports).
"""

import re

PRELUDE = r"""
local py, FLAVOUR = ...
local G = _G
local type, next, ipairs, rawget, rawset, rawequal, select, tostring, tonumber, error =
      type, next, ipairs, rawget, rawset, rawequal, select, tostring, tonumber, error
local setmetatable, getmetatable, pcall, xpcall, unpack, loadstring, load =
      setmetatable, getmetatable, pcall, xpcall, unpack, loadstring, load
local sethook, getinfo, rawgetmetatable = debug.sethook, debug.getinfo, debug.getmetatable
local format, sub, byte, find, gsub = string.format, string.sub, string.byte,
      string.find, string.gsub
local concat = table.concat
local collectgarbage = collectgarbage
local INTERNAL = "=kvserver"
local pyerrinfo = py.errinfo

-- Errors ---------------------------------------------------------------------

-- luaL_where: the position of the function at `level` (1 = where's caller).
local function where(level)
  local ar = getinfo(level + 1, "Sl")
  if ar and ar.currentline > 0 then
    return ar.short_src .. ":" .. ar.currentline .. ": "
  end
  return ""
end

-- luaL_argerror for the function at level L (counted from argerror_at).
local function argerror_at(L, narg, extramsg)
  local ar = getinfo(L, "n")
  local name = ar and ar.name
  if ar and ar.namewhat == "method" then
    narg = narg - 1
    if narg == 0 then
      error(format("calling '%s' on bad self (%s)", tostring(name), extramsg), L + 1)
    end
  end
  error(format("bad argument #%d to '%s' (%s)", narg, name or "?", extramsg), L + 1)
end
local function argerror(narg, extramsg) argerror_at(3, narg, extramsg) end   -- from the API function
local function argerror2(narg, extramsg) argerror_at(4, narg, extramsg) end  -- from its helper

local function typename(n, ...)
  if select("#", ...) < n then return "no value" end
  return type((select(n, ...)))
end

local function checktable(n, ...)
  if type((select(n, ...))) ~= "table" then
    argerror2(n, "table expected, got " .. typename(n, ...))
  end
end

local function checkany(n, ...)
  if select("#", ...) < n then argerror2(n, "value expected") end
end

-- The error a Python function raised, as Redis's C function would have
-- raised it. Called while the stack is intact: level 1 = convert, 2 = the
-- message handler, 3 = the failing function, 4 = its caller.
local function convert(e)
  if type(e) ~= "userdata" then return e end
  local kind, a, b = pyerrinfo(e)
  if kind == 1 then
    local t = {err = a}
    if b then t.ignore_error_stats_update = true end
    return t
  elseif kind == 2 then
    local ar = getinfo(3, "n")
    local name, narg = ar and ar.name, a
    if ar and ar.namewhat == "method" then
      narg = narg - 1
      if narg == 0 then
        return where(4) .. format("calling '%s' on bad self (%s)", tostring(name), b)
      end
    end
    return where(4) .. format("bad argument #%d to '%s' (%s)", narg, name or "?", b)
  elseif kind == 3 then
    return where(4) .. a
  elseif kind == 4 then
    return a
  end
  return e
end

-- Read-only tables ---------------------------------------------------------

local RO = setmetatable({}, {__mode = "k"})      -- protected tables
local REAL = setmetatable({}, {__mode = "k"})    -- proxy -> table it shows
local MTVIEW = setmetatable({}, {__mode = "k"})  -- proxy -> what getmetatable shows
local APIFUNC = setmetatable({}, {__mode = "k"}) -- Python callables type() calls functions

local function ro_newindex()
  error("Attempt to modify a readonly table", 2)
end

local function protect(real)
  local p = setmetatable({}, {__index = real, __newindex = ro_newindex})
  RO[p] = true
  REAL[p] = real
  for _, v in next, real do
    if type(v) == "userdata" and not rawequal(v, py.null) then APIFUNC[v] = true end
  end
  return p
end

local function nonexistent(t, k)
  if k == "debug" then
    -- lupa looks up debug.traceback (from C) before each call into Lua
    local i = getinfo(2, "S")
    if i == nil or i.what == "C" then return nil end
  end
  if type(k) ~= "string" and type(k) ~= "number" then
    error("Second argument to luaProtectedTableError must be a string or number", 2)
  end
  error("Script attempted to access nonexistent global variable '" .. k .. "'", 2)
end

local function error_metatable(t)
  return setmetatable(t, {__index = nonexistent})
end

-- Wrapped builtins -----------------------------------------------------------

local W = {}

W.type = function(...)
  local v = ...
  local t = type(v)
  if t == "userdata" then
    if APIFUNC[v] then return "function" end
  elseif t == "nil" and select("#", ...) == 0 then
    argerror(1, "value expected")
  end
  return t
end

W.rawset = function(...)
  checktable(1, ...)
  checkany(2, ...)
  checkany(3, ...)
  local t, k, v = ...
  if RO[t] then error("Attempt to modify a readonly table", 0) end
  return rawset(t, k, v)
end

W.rawget = function(...)
  checktable(1, ...)
  checkany(2, ...)
  local t, k = ...
  return rawget(REAL[t] or t, k)
end

W.setmetatable = function(...)
  checktable(1, ...)
  local t, mt = ...
  if mt ~= nil and type(mt) ~= "table" then argerror(2, "nil or table expected") end
  if RO[t] then error("Attempt to modify a readonly table", 0) end
  local old = rawgetmetatable(t)
  if old ~= nil and rawget(old, "__metatable") ~= nil then
    error("cannot change a protected metatable", 2)
  end
  return setmetatable(t, mt)
end

W.getmetatable = function(...)
  checkany(1, ...)
  local t = ...
  if REAL[t] then return MTVIEW[t] end
  if type(t) == "userdata" then return nil end
  return getmetatable(t)
end

W.next = function(...)
  checktable(1, ...)
  local t, k = ...
  return next(REAL[t] or t, k)
end

W.pairs = function(...)
  checktable(1, ...)
  local t = ...
  return next, REAL[t] or t, nil
end

W.ipairs = function(...)
  checktable(1, ...)
  local t = ...
  return ipairs(REAL[t] or t)
end

-- Redis's Lua loads no bytecode: a binary chunk is parsed as text and fails.
local function binary_error(chunkname)
  return chunkname .. ":1: unexpected symbol near 'char(27)'"
end

W.loadstring = function(...)
  local s, name = ...
  local ts = type(s)
  if ts ~= "string" and ts ~= "number" then
    argerror(1, "string expected, got " .. typename(1, ...))
  end
  if name ~= nil and type(name) ~= "string" and type(name) ~= "number" then
    argerror(2, "string expected, got " .. typename(2, ...))
  end
  s = tostring(s)
  if byte(s, 1) == 27 then
    return nil, binary_error('[string "?"]')
  end
  return loadstring(s, name)
end

W.load = function(...)
  local reader, name = ...
  if type(reader) ~= "function" then
    argerror(1, "function expected, got " .. typename(1, ...))
  end
  if name ~= nil and type(name) ~= "string" and type(name) ~= "number" then
    argerror(2, "string expected, got " .. typename(2, ...))
  end
  local first = reader()
  if type(first) == "string" and byte(first, 1) == 27 then
    return nil, binary_error(name and tostring(name) or "=(load)")
  end
  local done = false
  return load(function()
    if not done then done = true; return first end
    return reader()
  end, name)
end

-- Redis's pcall: an error table with an 'err' field is caught as its text.
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == "table" then
    local m = e.err
    if type(m) == "string" or type(m) == "number" then e = m end
  end
  return false, e
end
local function pcall_handler(e)
  local r = convert(e)
  return r
end
W.pcall = function(...)
  local n = select("#", ...)
  -- Redis's pcall calls the `true` it pushed in place of a function
  if n == 0 then return false, "attempt to call a boolean value" end
  if n == 1 then return pcall_result(xpcall((...), pcall_handler)) end
  local args = {...}
  return pcall_result(xpcall(function() return args[1](unpack(args, 2, n)) end,
                             pcall_handler))
end
W.xpcall = function(...)
  checkany(2, ...)
  local f, h = ...
  return xpcall(f, function(e)
    local r = convert(e)
    return h(r)
  end)
end

-- Script errors ----------------------------------------------------------------

-- The handler records where the error happened: the first frame that is
-- not ours, or the one above it when that is a C function (Redis's
-- __redis__err__handler looks at level 2, then 3 for C functions).
local function frame(level)
  local i = getinfo(level, "Sl")
  while i and i.source == INTERNAL do
    level = level + 1
    i = getinfo(level, "Sl")
  end
  return i, level
end
local function err_handler(err)
  err = convert(err)
  local i, level = frame(3)
  if i and i.what == "C" then i = frame(level + 1) end
  if type(err) ~= "table" then
    err = {err = "ERR " .. tostring(err)}
  end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end

local function strfield(e, k)
  local v = e[k]
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  return nil
end

-- A script error for Python: (false, msg, source, line, ignore_stats[, detail]).
local function error_parts(e)
  if type(e) ~= "table" then
    return false, nil, nil, nil, false, tostring(e)
  end
  local ok, msg, source, line, ignore = pcall(function()
    local ig = e.ignore_error_stats_update
    return strfield(e, "err"), strfield(e, "source"), strfield(e, "line"),
           type(ig) == "boolean" and ig
  end)
  if not ok then return false, nil, nil, nil, false, tostring(msg) end
  return false, msg, source, line, ignore
end

-- Lua value -> RESP ---------------------------------------------------------

local out, n, errs
local cresp, sresp = 2, 2
local MAXSTACK = 8000

local function emit(s)
  n = n + 1
  out[n] = s
end

local function cstr(s)
  local z = find(s, "\0", 1, true)
  if z then return sub(s, 1, z - 1) end
  return s
end

local function bulk(s)
  emit("$" .. #s .. "\r\n" .. s .. "\r\n")
end

local function reply_null()
  if cresp == 2 then emit("$-1\r\n") else emit("_\r\n") end
end

local function reply_error(msg, ignore)
  msg = gsub(gsub(gsub("-" .. cstr(msg), "^[\r\n]+", ""), "[\r\n]+$", ""), "[\r\n]", " ")
  emit(msg .. "\r\n")
  errs = errs or {}
  errs[#errs + 1] = msg
  errs[#errs + 1] = ignore and true or false
end

local function reply_double(d)
  local s
  if d == 1/0 then s = "inf" elseif d == -1/0 then s = "-inf" else s = format("%.17g", d) end
  if cresp == 2 then bulk(s) else emit("," .. s .. "\r\n") end
end

local conv
local function conv_table(t, slots)
  local v = rawget(t, "err")
  if type(v) == "string" then
    local ig = t.ignore_error_stats_update
    reply_error(v, type(ig) == "boolean" and ig)
    return
  end
  v = rawget(t, "ok")
  if type(v) == "string" then
    emit("+" .. gsub(cstr(v), "[\r\n]", " ") .. "\r\n")
    return
  end
  v = rawget(t, "double")
  if type(v) == "number" then
    reply_double(v)
    return
  end
  v = rawget(t, "big_number")
  if type(v) == "string" then
    v = (gsub(v, "[\r\n]", " "))
    if cresp == 2 then bulk(v) else emit("(" .. v .. "\r\n") end
    return
  end
  v = rawget(t, "verbatim_string")
  if type(v) == "table" then
    local f, s = rawget(v, "format"), rawget(v, "string")
    if type(f) == "string" and type(s) == "string" then
      if cresp == 2 then
        bulk(s)
      else
        f = sub(cstr(f) .. "   ", 1, 3)
        emit("=" .. (#s + 4) .. "\r\n" .. f .. ":" .. s .. "\r\n")
      end
      return
    end
  end
  v = rawget(t, "map")
  if type(v) == "table" then
    local at = n + 1
    emit("")
    local count = 0
    for k, x in next, v do
      conv(k, slots + 4)
      conv(x, slots + 3)
      count = count + 1
    end
    out[at] = (cresp == 2 and "*" .. (count * 2) or "%" .. count) .. "\r\n"
    return
  end
  v = rawget(t, "set")
  if type(v) == "table" then
    local at = n + 1
    emit("")
    local count = 0
    for k in next, v do
      conv(k, slots + 3)
      count = count + 1
    end
    out[at] = (cresp == 2 and "*" or "~") .. count .. "\r\n"
    return
  end
  local at = n + 1
  emit("")
  local j = 1
  while true do
    local x = rawget(t, j)
    if x == nil then break end
    conv(x, slots + 1)
    j = j + 1
  end
  out[at] = "*" .. (j - 1) .. "\r\n"
end

conv = function(v, slots)
  if slots + 4 > MAXSTACK then
    reply_error("ERR reached lua stack limit", false)
    return
  end
  local t = type(v)
  if t == "string" then
    emit("$" .. #v .. "\r\n" .. v .. "\r\n")
  elseif t == "number" then
    emit(":" .. format("%d", v) .. "\r\n")
  elseif t == "table" then
    conv_table(v, slots)
  elseif t == "boolean" then
    if sresp == 2 then
      if v then emit(":1\r\n") else reply_null() end
    elseif cresp == 2 then
      emit(v and ":1\r\n" or ":0\r\n")
    else
      emit(v and "#t\r\n" or "#f\r\n")
    end
  else
    reply_null()
  end
end

-- (true, resp, errs) for the value a script returned.
local function reply_of(v, client_resp)
  local t = type(v)
  if t == "number" then return true, ":" .. format("%d", v) .. "\r\n", nil end
  if t == "string" then return true, "$" .. #v .. "\r\n" .. v .. "\r\n", nil end
  cresp = client_resp
  out, n, errs = {}, 0, nil
  conv(v, 2)
  local s = concat(out, "", 1, n)
  local e = errs
  out, errs = nil, nil
  return true, s, e
end

-- Interrupting long scripts ------------------------------------------------

local pyinterrupt = py.interrupt
-- Hooks raise only in the script's own code: an error raised in one of our
-- frames could escape the protected call that runs the script.
local function in_script()
  local i = getinfo(3, "S")
  return i ~= nil and i.source ~= INTERNAL
end
local function kill_hook()
  if in_script() then
    error({err = pyinterrupt() or "ERR Script killed by user with SCRIPT KILL..."})
  end
end
local function count_hook()
  local r = pyinterrupt()
  if r then
    sethook(kill_hook, "l")
    if in_script() then error({err = r}) end
  end
end
local function arm_hook()
  sethook(count_hook, "", 100000)
end

-- The global environment --------------------------------------------------------

local H = {}       -- what the global table shows
local keep = {"assert", "collectgarbage", "error", "gcinfo", "select", "tonumber",
              "tostring", "unpack", "rawequal", "_VERSION"}
for _, k in ipairs(keep) do H[k] = G[k] end
for k, f in next, W do H[k] = f end
H.coroutine = protect(G.coroutine)
H.table = protect(G.table)
H.string = protect(G.string)
getmetatable("").__index = H.string
G.math.random = py.math_random
G.math.randomseed = py.math_randomseed
H.math = protect(G.math)
for k, t in next, py.libs do H[k] = protect(t) end
H.redis = protect(py.redis)
error_metatable(H)

-- The global table becomes a proxy of H.
for k in next, G do G[k] = nil end
local gmt = {__index = H, __newindex = ro_newindex}
setmetatable(G, gmt)
RO[G] = true
REAL[G] = H
H._G = G

local E = {}
E.arm_hook = arm_hook
E.disarm_hook = function() sethook() end
E.memory = function() return collectgarbage("count") * 1024 end
E.gc_step = function(k) collectgarbage("step", k) end

-- KEYS and ARGV from the arguments after nkeys (a short argument list comes
-- as Lua arguments: cheaper than two tables built from Python).
local function split_args(nkeys, ...)
  if nkeys == 0 then return {}, {...} end
  local keys = {...}
  local n = select("#", ...)
  if nkeys == n then return keys, {} end
  local argv = {}
  for i = nkeys + 1, n do
    argv[i - nkeys] = keys[i]
    keys[i] = nil
  end
  return keys, argv
end

local function finish(ok, r, client_resp)
  if ok then return reply_of(r, client_resp) end
  return error_parts(r)
end

MTVIEW[G] = protect({__index = nonexistent})

--@eval-begin
H.__redis__err__handler = err_handler
E.compile = function(body)
  if byte(body, 1) == 27 then return nil, binary_error("user_script") end
  return loadstring(body, "@user_script")
end
E.run = function(f, keys, argv, client_resp)
  sresp = 2
  rawset(H, "KEYS", keys)
  rawset(H, "ARGV", argv)
  local ok, r = xpcall(f, err_handler)
  return finish(ok, r, client_resp)
end
E.runv = function(f, client_resp, nkeys, ...)
  sresp = 2
  local keys, argv = split_args(nkeys, ...)
  rawset(H, "KEYS", keys)
  rawset(H, "ARGV", argv)
  local ok, r = xpcall(f, err_handler)
  return finish(ok, r, client_resp)
end
--@eval-end

--@function-begin
-- FUNCTION LOAD runs library code with another view of the globals: only
-- `redis` with register_function, log and the version fields.
local LIBAPI = error_metatable({redis = protect(error_metatable(py.libredis))})
E.load_library = function(code)
  local f, err
  if byte(code, 1) == 27 then
    err = binary_error("user_function")
  else
    f, err = loadstring(code, "@user_function")
  end
  if not f then return false, "compile", err end
  gmt.__index = LIBAPI
  sethook(function()
    local r = py.load_timeout()
    if r then
      sethook(function() if in_script() then error({err = r}) end end, "l")
      if in_script() then error({err = r}) end
    end
  end, "", 100000)
  local ok, e = xpcall(f, pcall_handler)
  arm_hook()
  gmt.__index = H
  if ok then return true end
  if type(e) == "table" then
    local ok2, msg = pcall(strfield, e, "err")
    return false, "run", ok2 and msg or nil
  end
  if type(e) == "string" or type(e) == "number" then
    return false, "run", "ERR " .. tostring(e)
  end
  return false, "run", nil
end
E.run = function(f, keys, argv, client_resp)
  sresp = 2
  local ok, r = xpcall(function() return f(keys, argv) end, err_handler)
  return finish(ok, r, client_resp)
end
E.runv = function(f, client_resp, nkeys, ...)
  sresp = 2
  local keys, argv = split_args(nkeys, ...)
  local ok, r = xpcall(function() return f(keys, argv) end, err_handler)
  return finish(ok, r, client_resp)
end
--@function-end

-- redis.setresp tells the converter too.
E.setresp = function(v) sresp = v end
arm_hook()
return E
"""

_SECTION = re.compile(r"^--@(eval|function)-begin$(.*?)^--@\1-end$", re.M | re.S)


def source(flavour: str) -> str:
    """The prelude for one flavour ("eval" or "function")."""
    return _SECTION.sub(lambda m: m.group(2) if m.group(1) == flavour else "", PRELUDE)
