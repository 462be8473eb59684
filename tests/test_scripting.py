"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT.

Most tests are differential: the same script runs on kvserver and on
redis-server 7.0 and the replies must be byte-for-byte equal, error texts
(with their "script: <sha>, on @user_script:<line>." suffix) included, in
RESP2 and RESP3. The rest check what a single server cannot be compared on:
redis-py's Lock and Script objects, propagation of a script's effects,
MONITOR, BUSY and SCRIPT KILL.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rawclient import RawClient, ReplyError, encode_command

pytestmark = pytest.mark.differential


def sha1(s: str) -> str:
    return hashlib.sha1(s.encode()).hexdigest()


# -- Lua -> RESP conversion ----------------------------------------------------------

RETURNS = [
    "return 'hello'",
    "return 100.5",
    "return -100.5",
    "return 1e300",
    "return -1e300",
    "return 0/0",
    "return 2^53 + 1",
    "return -0.9",
    "return true",
    "return false",
    "return nil",
    "return",
    "return {ok='fine'}",
    "return {ok='a\\r\\nb'}",
    "return {ok=1}",
    "return {err='ERR this is an error'}",
    "return {err='MYCODE custom'}",
    "return {err=''}",
    "return {err='x\\ny\\r\\n'}",
    "return {err=1}",
    "return {1,2,3,'ciao',{1,2}}",
    "return {1, nil, 3}",
    "return {1, false, 3, true}",
    "return {{}, {{}}, {{{1}}}}",
    "return {1, {err='ERR inner'}, {ok='inner'}}",
    "return {a=1, b=2}",
    "return {[1]='x', [3]='y', a='z'}",
    "return {double=1.5}",
    "return {double=0.1}",
    "return {double=1/0}",
    "return {double=-1/0}",
    "return {double=0/0}",
    "return {double='1.5'}",
    "return {big_number='12345678901234567890'}",
    "return {verbatim_string={format='txt', string='hello'}}",
    "return {verbatim_string={format='markdown', string='x'}}",
    "return {verbatim_string={format='a', string='x'}}",
    "return {verbatim_string={format=1, string='x'}}",
    "return {map={a=1}}",
    "return {map={a=1, b={1,2}, c={ok='x'}}}",
    "return {map={}}",
    "return {set={a=true}}",
    "return {set={a=true, b=true, c=true}}",
    "return {set={}}",
    "return _G",
    "return redis",
    "return function() end",
    "return coroutine.create(function() end)",
    "return cjson.null",
    "local t = {}; setmetatable(t, {__index=function() error('x') end}); return t",
    "local a = {}; setmetatable(a, {__index=function() redis.call('set','x','1') end}); return a",
    "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}",
    "return 'hello' --trailing comment",
]


@pytest.mark.parametrize("script", RETURNS)
def test_lua_to_resp(diff, diff3, script):
    for d in (diff, diff3):
        d.check("EVAL", script, 2, "k1", "k2", "a1", "a2")


def test_big_number_with_newlines(server, real_redis):
    """CR/LF in a big number become spaces (a RESP3 reply hiredis refuses to parse)."""
    got = []
    for port in (server.port, real_redis):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(encode_command(["HELLO", "3"]))
        _read_all(s, b"*0\r\n")
        s.sendall(encode_command(["EVAL", "return {big_number='1\\r\\n2'}", "0"]))
        got.append(_read_all(s, b"\r\n"))
        s.close()
    assert got[0] == got[1] == b"(1  2\r\n"


@pytest.mark.parametrize("script", [
    "redis.setresp(3); return {true, false, {double=0.1}}",
    "redis.setresp(3); return {map={a=true}, set={b=true}}",
    "redis.setresp(3); return nil",
    "redis.setresp(3); return {big_number='1'}",
    "redis.setresp(2); return true",
])
def test_lua_to_resp_after_setresp(diff, diff3, script):
    for d in (diff, diff3):
        d.check("EVAL", script, 0)


def test_deep_nesting_reaches_the_stack_limit(server, real_redis):
    """A table that contains itself: Redis emits 7995 nested arrays, then the
    stack-limit error; the connection stays usable."""
    script = "local a = {}; local b = {a}; a[1] = b; return a"
    got = []
    for port in (server.port, real_redis):
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(10)
        s.sendall(encode_command(["EVAL", script, "0"]) + encode_command(["PING"]))
        data = b""
        while not data.endswith(b"+PONG\r\n"):
            chunk = s.recv(1 << 16)
            assert chunk
            data += chunk
        s.close()
        got.append(data)
    assert got[0] == got[1]
    assert got[0].count(b"*1\r\n") == 7995


# -- Redis reply -> Lua -------------------------------------------------------------

REPLIES = [
    "local r = redis.call('incr', KEYS[1]); return {type(r), r}",
    "local r = redis.call('get', KEYS[1]); return {type(r), r}",
    "redis.call('set', KEYS[1], 'v'); local r = redis.call('get', KEYS[1]); return {type(r), r}",
    "local r = redis.call('set', KEYS[1], 'v'); return {type(r), r.ok}",
    "local r = redis.pcall('hset', KEYS[1]); return {type(r), r.err}",
    "redis.call('set', KEYS[1], 'v'); local r = redis.pcall('incr', KEYS[1]); return {type(r), r.err}",
    "redis.call('rpush', KEYS[1], 'a', 'b', 'c'); local r = redis.call('lrange', KEYS[1], 0, -1);"
    " return {type(r), r[1], r[2], r[3], #r}",
    "redis.call('hset', KEYS[1], 'f', 'v'); return redis.call('hgetall', KEYS[1])",
    "redis.setresp(3); redis.call('hset', KEYS[1], 'f', 'v'); return redis.call('hgetall', KEYS[1])",
    "redis.setresp(3); local r = redis.call('hgetall', KEYS[1]); return {type(r.map)}",
    "redis.setresp(3); local r = redis.call('get', KEYS[1]); return {r == nil, r == false}",
    "local r = redis.call('get', KEYS[1]); return {r == nil, r == false}",
    "redis.setresp(3); redis.call('zadd', KEYS[1], 1.5, 'm');"
    " local r = redis.call('zscore', KEYS[1], 'm'); return {type(r), r.double}",
    "redis.call('zadd', KEYS[1], 1.5, 'm'); return redis.call('zscore', KEYS[1], 'm')",
    "redis.setresp(3); redis.call('sadd', KEYS[1], 'a');"
    " local r = redis.call('smembers', KEYS[1]); return {type(r.set), r.set.a}",
    "redis.call('set', KEYS[1], 'v', 'EX', 100); return redis.call('ttl', KEYS[1])",
    "return redis.call('exists', KEYS[1], KEYS[1])",
    "redis.call('del', KEYS[1]); return redis.call('lpop', KEYS[1])",
    "redis.setresp(3); redis.call('del', KEYS[1]); return {redis.call('lpop', KEYS[1]) == nil}",
    "return redis.call('ping')",
    "return redis.call('ping', 'x')",
    "return redis.call('echo', 'x')",
    "return redis.call('set', KEYS[1], 1.5)",
    "redis.call('set', KEYS[1], 9007199254740991); return redis.call('get', KEYS[1])",
    "redis.call('set', KEYS[1], '12039611435714932082'); return redis.call('get', KEYS[1])",
    "return redis.call('ping', 1e100)",
    "return redis.call('ping', 0.1)",
    "return redis.call('ping', 123456789012345678)",
    "return redis.call('ping', 1/0)",
    "return redis.call('ping', 0/0)",
    "return redis.call('ping', -3)",
    "return redis.call('PiNg')",
    "return redis.call('select', 1)",
    "redis.call('select', 5); redis.call('set', KEYS[1], 'in5'); return redis.call('get', KEYS[1])",
    "return redis.call('object', 'help')[1]",
    "return redis.call('sort', KEYS[1])",
]


@pytest.mark.parametrize("script", REPLIES)
def test_reply_to_lua(diff, diff3, script):
    for d in (diff, diff3):
        d.flush()
        d.check("EVAL", script, 1, "k")
    diff.check("GET", "k")


def test_select_inside_a_script_does_not_change_the_caller(diff):
    diff.check("SET", "k", "db0")
    diff.check("EVAL", "redis.call('select', 3); return redis.call('set', 'k', 'db3')", 0)
    diff.check("GET", "k")
    diff.check("SELECT", "3")
    diff.check("GET", "k")
    diff.check("FLUSHDB")
    diff.check("SELECT", "0")


def test_sort_is_ordered_for_scripts(diff):
    diff.check("SADD", "s", "1", "2", "3", "4", "10")
    diff.check("EVAL", "return redis.call('sort', KEYS[1], 'desc')", 1, "s")
    diff.check("DEL", "s")
    diff.check("SADD", "s", *"a b c d e f g h i l m n o p q r s t u v z aa aaa azz".split())
    diff.check("EVAL", "return redis.call('sort', KEYS[1], 'by', '_')", 1, "s")
    diff.check("EVAL", "return redis.call('sort', KEYS[1], 'by', '_', 'get', '#', 'get', '_:*')",
               1, "s")


# -- errors ---------------------------------------------------------------------------

ERRORS = [
    "return redis.call('nosuchcommand')",
    "redis.call('nosuchcommand')",
    "return redis.pcall('nosuchcommand')",
    "return redis.call('get', 'a', 'b', 'c')",
    "return redis.pcall('get', 'a', 'b', 'c')",
    "return redis.call('set', 'invalid')",
    "return redis.call('incr')",
    "return redis.call('client')",
    "return redis.call('config', 'nosuch')",
    "return redis.call()",
    "return redis.pcall()",
    "return redis.call({})",
    "return redis.call('set', 'x', {})",
    "return redis.call('set', 'x', true)",
    "return redis.call('set', 'x', nil)",
    "return redis.pcall('set', 'x', {})",
    "return redis.call('blpop', 'x', 0)",
    "return redis.pcall('blpop', 'x', 0)",
    "return redis.pcall('brpop', 'empty', 0)",
    "return redis.pcall('brpoplpush', 'a', 'b', 0)",
    "return redis.pcall('blmove', 'a', 'b', 'LEFT', 'LEFT', 0)",
    "return redis.pcall('bzpopmin', 'z', 0)",
    "return redis.pcall('bzpopmax', 'z', 0)",
    "return redis.call('eval', 'return 1', 0)",
    "return redis.call('multi')",
    "return redis.call('subscribe', 'ch')",
    "return redis.call('select', 99)",
    "return redis.pcall('select', 99)",
    "redis.call('set', 'x', 'v'); return redis.call('incr', 'x')",
    "redis.call('set', 'x', 'v'); return redis.call('lpush', 'x', 'v')",
    "redis.call('set', 'x', 'v'); return redis.pcall('lpush', 'x', 'v')",
    "error('x')",
    "error('x', 0)",
    "error('x', 2)",
    "error(12)",
    "error({err='MY boom'})",
    "error({err='MY boom', source='s', line=5})",
    "error({err='boom'})",
    "error(true)",
    "local t = {}; t.x.y = 1",
    "local x = nil; return x.y",
    "return 1 + {}",
    "return #5",
    "\nlocal x = 1\n\nerror('line four')",
    "local function f() error('deep') end; f()",
    "local function f() error('tail') end; return f()",
    "syntax error here",
    "return 'x",
    "return )",
    "\x1bLua",
    "a = 10",
    "return a",
    "_G.x = 1",
    "redis = function() return 1 end",
    "_G = {}",
    "setmetatable(_G, {})",
    "local g = getmetatable(_G); g.__index = {}",
    "rawset(_G, 'x', 1)",
    "rawset(redis, 'x', 1)",
    "redis.call = function() return 1 end",
    "cjson.encode = function() return 1 end",
    "cmsgpack.pack = function() return 1 end",
    "bit.lshift = function() return 1 end",
    "struct.pack = function() return 1 end",
    "string.rep = nil",
    "math.floor = nil",
    "table.concat = nil",
    "loadfile('some file')",
    "dofile('some file')",
    "print('some data')",
    "return os.time()",
    "return io.write('x')",
    "return require('x')",
    "return debug.getinfo(1)",
    "return getfenv(0)",
    "return setfenv(1, {})",
    "return newproxy()",
    "return _G[true]",
    "return _G[{}]",
    "return loadstring(string.dump(function() return 1 end))()",
    "local f = loadstring('return 1 +'); return f",
    "return {loadstring('return 2')()}",
    "return assert(false, 'assert message')",
    "return assert(nil)",
    "return string.rep()",
    "return ('x'):rep()",
    "return tostring()",
    "local x = type()",
    "local x = rawget(_G)",
    "local x = rawget({}, 1, 2)",
    "local p = rawset; local x = p(nil)",
    "setmetatable(1, {})",
    "setmetatable({}, 1)",
    "local t = setmetatable({}, {__metatable = 'locked'}); setmetatable(t, {})",
    "local x = getmetatable()",
    "return getmetatable('x').__index == string",
    "return getmetatable(redis) == nil",
    "return type(getmetatable(_G).__index)",
    "return rawget(_G, 'redis') ~= nil",
    "local n = 0; for k in pairs(redis) do n = n + 1 end; return n",
    "local t = {}; for k in pairs(_G) do t[#t + 1] = k end; table.sort(t); return t",
    "local t = {}; for k in pairs(string) do t[#t + 1] = k end; table.sort(t); return t",
    "local t = {}; for k in pairs(math) do t[#t + 1] = k end; table.sort(t); return t",
    "local t = {}; for k in pairs(table) do t[#t + 1] = k end; table.sort(t); return t",
    "local t = {}; for k in pairs(coroutine) do t[#t + 1] = k end; table.sort(t); return t",
    "local t = {}; for k in next, redis do t[#t + 1] = k end; table.sort(t); return t",
    "local t = {}; for i, v in ipairs(KEYS) do t[i] = v end; return t",
    "return {type(redis.call), type(cjson.encode), type(print == nil)}",
    "local ok, e = pcall(function() return foo end); return 'status: ' .. tostring(ok) .. ' result: ' .. e",
    "local ok, e = pcall(function() return 1 end); return 'status: ' .. tostring(ok) .. ' result: ' .. e",
    "return {pcall(redis.call, 'nosuch')}",
    "local ok, e = pcall(redis.call, 'nosuch'); return e",
    "local ok, e = pcall(error, {err='MY x'}); return e",
    "local ok, e = pcall(error, {x=1}); return type(e)",
    "local ok, e = pcall(error); return {ok, e}",
    "local x = pcall()",
    "local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return e end);"
    " return e",
    "local ok, e = xpcall(function() error('x') end, function(e) return 'h:' .. e end); return e",
    "local ok, e = pcall(cjson.decode, 'x'); return e",
    "local ok, e = pcall(bit.band, 'x'); return e",
    "local ok, e = pcall(function() local x = bit.band('x') end); return e",
    "local x = {}; return redis.call('ping', x)",
    "return redis.sha1hex()",
    "redis.sha1hex()",
    "return redis.sha1hex(1, 2)",
    "return redis.sha1hex({})",
    "return redis.sha1hex(12)",
]


@pytest.mark.parametrize("script", ERRORS)
def test_errors_and_sandbox(diff, diff3, script):
    for d in (diff, diff3):
        d.check("EVAL", script, 0)


def test_redis_api(diff, diff3):
    for d in (diff, diff3):
        for script in [
            "return redis.sha1hex('')",
            "return redis.sha1hex('Pizza & Mandolino')",
            "return redis.error_reply('My Error')",
            "return redis.error_reply('-My Error')",
            "return redis.error_reply('-ERR x\\r\\n')",
            "return redis.error_reply('')",
            "return redis.error_reply('-')",
            "return redis.error_reply(1)",
            "return redis.error_reply()",
            "return redis.error_reply('a', 'b')",
            "return redis.status_reply('FINE')",
            "return redis.status_reply('a\\r\\nb')",
            "return redis.status_reply(1)",
            "return redis.log()",
            "return redis.log('x', 'y')",
            "return redis.log(99, 'y')",
            "return redis.log(-1, 'y')",
            "return redis.log(redis.LOG_DEBUG, 'debug message')",
            "return redis.log(redis.LOG_WARNING, 'hello', 1, nil, 'x', {})",
            "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
            "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA,"
            " redis.REPL_ALL}",
            "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}",
            "return string.format('%s.%s.%s', bit.band(bit.rshift(redis.REDIS_VERSION_NUM, 16),"
            " 255), bit.band(bit.rshift(redis.REDIS_VERSION_NUM, 8), 255),"
            " bit.band(redis.REDIS_VERSION_NUM, 255)) == redis.REDIS_VERSION",
            "return {redis.breakpoint(), redis.debug('x'), redis.replicate_commands()}",
            "return redis.replicate_commands()",
            "return redis.setresp()",
            "return redis.setresp(4)",
            "return redis.setresp('x')",
            "return redis.setresp(2, 3)",
            "return redis.set_repl()",
            "return redis.set_repl(12345)",
            "return redis.set_repl(-1)",
            "return redis.set_repl(redis.REPL_ALL)",
            "return redis.set_repl(redis.REPL_NONE)",
            "return redis.acl_check_cmd('set', 'xx', 1)",
            "return redis.acl_check_cmd('invalid-cmd', 'arg')",
            "return redis.acl_check_cmd()",
            "return {pcall(redis.setresp, 4)}",
            "math.randomseed(10); return {tostring(math.random()), math.random(100),"
            " math.random(5, 10)}",
            "math.randomseed(-7); return tostring(math.random())",
            "math.randomseed(10); return math.random(0)",
            "math.randomseed(10); return math.random(3, 1)",
            "return math.random(1, 2, 3)",
            "return math.random('x')",
            "return math.randomseed()",
            "return math.randomseed('x')",
        ]:
            d.check("EVAL", script, 0)


# -- libraries --------------------------------------------------------------------------

LIBRARY_SCRIPTS = [
    # cjson
    "return cjson.encode({1, 2, 3, 'ciao', {1, 2}})",
    "return cjson.encode({a=1})",
    "return cjson.encode({a={b={c='d'}}, e=true, f=false})",
    "return cjson.encode({one='one', [1]='one', x=1.5, y=-0.25, z=1e20})",
    "return cjson.encode({})",
    "return cjson.encode('x/y\"z\\\\ \\1\\127\\226\\130\\172\\n\\t\\r\\b\\f')",
    "return cjson.encode({[1]=1, [3]=3})",
    "return cjson.encode({[1]=1, [30]=3})",
    "return cjson.encode({[1]=1, [2.5]=3})",
    "return cjson.encode({[-1]=1})",
    "return cjson.encode({[false]=1})",
    "return cjson.encode(0.1)",
    "return cjson.encode(1/3)",
    "return cjson.encode(123456789012)",
    "return cjson.encode(0/0)",
    "return cjson.encode(1/0)",
    "return cjson.encode(function() end)",
    "return cjson.encode(cjson.null)",
    "return cjson.encode({cjson.null, 1})",
    "return cjson.encode(nil)",
    "return cjson.encode()",
    "return cjson.encode(1, 2)",
    "return cjson.encode(true)",
    "return cjson.encode({{{{{{}}}}}})",
    "return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')",
    "local d = cjson.decode('{\"keya\": \"a\", \"keyb\": \"b\"}'); return {d.keya, d.keyb}",
    "return cjson.decode('[1,2,{\"a\":[true,false,null]}]')",
    "return cjson.decode('\"\\\\u00e9\\\\u20ac\\\\ud83d\\\\ude00\\\\n\"')",
    "return cjson.decode('null') == cjson.null",
    "return tostring(cjson.null)",
    "return type(cjson.null)",
    "return cjson.decode('[1,2')",
    "return cjson.decode('{\"a\":1')",
    "return cjson.decode('{\"a\" 1}')",
    "return cjson.decode('{1:1}')",
    "return cjson.decode('x')",
    "return cjson.decode('')",
    "return cjson.decode('[1] x')",
    "return cjson.decode('\"abc')",
    "return cjson.decode('\"\\\\x\"')",
    "return cjson.decode('\"\\\\u12\"')",
    "return cjson.decode('\"\\\\udc00\"')",
    "return cjson.decode('+1')",
    "return cjson.decode('0x10')",
    "return cjson.decode('[inf, -inf]')",
    "return tostring(cjson.decode('nan'))",
    "return cjson.decode('01')",
    "return cjson.decode('-')",
    "return cjson.decode('1e')",
    "return cjson.decode('[1,]')",
    "return cjson.decode('\\0[1]')",
    "return cjson.decode('[1]\\0garbage')",
    "return cjson.decode(12)",
    "return cjson.decode({})",
    "return cjson.decode()",
    "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))",
    "return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}",
    "return {cjson.encode_sparse_array()}",
    "return {cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers(),"
    " cjson.encode_keep_buffer()}",
    "return cjson.encode_max_depth(0)",
    "return cjson.encode_max_depth('x')",
    "return cjson.encode_max_depth(1, 2)",
    "return cjson.encode_invalid_numbers('maybe')",
    "local c = cjson.new(); c.encode_max_depth(1); return {pcall(c.encode, {{1}})}",
    "local c = cjson.new(); c.encode_number_precision(3); return c.encode(math.pi)",
    "local c = cjson.new(); c.encode_invalid_numbers('null'); return c.encode({1/0, 0/0})",
    "local c = cjson.new(); c.encode_invalid_numbers(true); return c.encode({1/0, 0/0})",
    "local c = cjson.new(); c.encode_sparse_array(true); return c.encode({[1]=1, [30]=3})",
    "local c = cjson.new(); c.decode_invalid_numbers(false); return {pcall(c.decode, '0x10')}",
    "local c = cjson.new(); c.decode_max_depth(2); return {pcall(c.decode, '[[[1]]]')}",
    "return {cjson._NAME, cjson._VERSION}",
    # cmsgpack
    "local e = cmsgpack.pack(0.1); local h = ''; for i = 1, #e do"
    " h = h .. string.format('%02x', string.byte(e, i)) end; return h",
    "local e = cmsgpack.pack(-1099511627776); local h = ''; for i = 1, #e do"
    " h = h .. string.format('%02x', string.byte(e, i)) end; return h",
    "return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, -32, -33, -128, -129,"
    " -32768, -32769, 2^32, -2^31, -2^31 - 1, 2^40, 1.5, 1e300, true, false, 'x')",
    "return cmsgpack.pack({1, 2, 3}, {a=1}, {}, string.rep('x', 40), string.rep('y', 300))",
    "return cmsgpack.pack(string.rep('z', 70000))",
    "local t = {}; for i = 1, 20 do t[i] = i end; return cmsgpack.pack(t)",
    "local t = {}; for i = 1, 20 do t['k' .. i] = i end; return cmsgpack.pack(t)",
    "return cmsgpack.pack({[1]=1, [3]=3})",
    "return cmsgpack.pack(function() end, nil)",
    "return cmsgpack.pack()",
    "return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {3, {4}}, {x='y'}, true, false, 1.5))}",
    "return {cmsgpack.unpack('\\192\\195')}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 0)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1, 0)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 10)}",
    "return {cmsgpack.unpack('\\205\\1')}",
    "return {cmsgpack.unpack('\\193')}",
    "return {cmsgpack.unpack({})}",
    "return {cmsgpack.unpack()}",
    "return {cmsgpack.unpack('\\129\\192\\1')}",
    "return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}",
    "local a = {x=nil, y=5}; local b = {x=a}; a['x'] = b; local e = cmsgpack.pack(a);"
    " local h = ''; for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end;"
    " local re = cmsgpack.unpack(e); return {h, re.x.x.y == re.y, re.y == 5}",
    # bit
    "return {bit.tobit(1), bit.band(1), bit.bxor(1, 2), bit.bor(1, 2, 4, 8, 16, 32, 64, 128)}",
    "return {bit.band('3', 1), bit.tobit(2^32 + 5), bit.tobit(-1), bit.tobit(0.5),"
    " bit.tobit(1.5), bit.tobit(2.5), bit.tobit(2^52 + 3), bit.tobit(1e300)}",
    "return {bit.bnot(0), bit.lshift(1, 31), bit.lshift(1, 32), bit.rshift(-1, 1),"
    " bit.arshift(-8, 2), bit.rol(1, 33), bit.ror(1, 1), bit.bswap(1), bit.bswap(0x12345678)}",
    "return {bit.tohex(255), bit.tohex(-1, -4), bit.tohex(1, 20), bit.tohex(0x1234, 2)}",
    "return bit.band()",
    "return bit.band('x')",
    "return bit.band(1, {})",
    "return bit.lshift(1)",
    "return bit.tohex(1, nil)",
    "local b = bit.bor; return b(nil)",
    "return {bit._NAME}",
    "assert(0x7fffffff == 2147483647); assert(tostring(-1) == '-1'); return 1",
    # struct
    "return struct.pack('>I', 1)",
    "return struct.pack('<i2bBhHlLT', -1, -2, 200, -3, 60000, -5, 6, 7)",
    "return struct.pack('!4 b i', 1, 2)",
    "return struct.pack('c5', 'abcdefg')",
    "return struct.pack('c0s', 'abc', 'de')",
    "return struct.pack('fd', 1.5, -2.25)",
    "return struct.pack('>fd', 1.5, -2.25)",
    "return struct.pack('i16', -1)",
    "return struct.pack('xxb', 1)",
    "return struct.pack('z')",
    "return struct.pack('i33', 1)",
    "return struct.pack('!3i', 1)",
    "return struct.pack('i')",
    "return struct.pack('c5', 'ab')",
    "return struct.pack()",
    "return {struct.unpack('>I', struct.pack('>I', 4294967295))}",
    "return {struct.unpack('<i2bB', struct.pack('<i2bB', -1, -2, 200))}",
    "return {struct.unpack('c3 c2', 'abcde')}",
    "return {struct.unpack('b c0', '\\3xyz')}",
    "return {struct.unpack('s s', 'ab\\0cd\\0')}",
    "return {struct.unpack('s', 'abc')}",
    "return {struct.unpack('i', 'ab')}",
    "return {struct.unpack('b', 'abc', 2)}",
    "return {struct.unpack('b', 'abc', 0)}",
    "return {struct.unpack('c0', 'abc')}",
    "return {struct.unpack('>d', struct.pack('>d', 0.1))}",
    "return {struct.size('i'), struct.size('!8 b d'), struct.size('c10')}",
    "return struct.size('s')",
    "return struct.size('c0')",
    "return struct.size('y')",
]


@pytest.mark.parametrize("script", LIBRARY_SCRIPTS)
def test_libraries(diff, script):
    diff.check("EVAL", script, 0)


def test_cjson_smoke_and_config_persistence(diff):
    # The configuration of the global cjson module lasts between scripts.
    script = """
        local some_map = {s1="Some string", n1=100, a1={"Some","String","Array"}, nil1=nil,
                          b1=true, b2=false}
        local encoded = cjson.encode(some_map)
        local decoded = cjson.decode(encoded)
        assert(table.concat(some_map) == table.concat(decoded))
        cjson.encode_keep_buffer(false)
        local table1 = {one="one", [1]="one"}
        encoded = cjson.encode(table1)
        decoded = cjson.decode(encoded)
        assert(decoded["one"] == table1["one"])
        assert(decoded["1"] == table1[1])
        local invalid_map = {}
        invalid_map[false] = "false"
        local ok, e = pcall(cjson.encode, invalid_map)
        assert(ok == false)
        cjson.encode_max_depth(1)
        ok, e = pcall(cjson.encode, some_map)
        assert(ok == false)
        cjson.decode_max_depth(1)
        ok, e = pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}')
        assert(ok == false)
        ok, e = pcall(cjson.encode, {num1=0/0})
        assert(ok == false)
        cjson.encode_invalid_numbers(true)
        ok, e = pcall(cjson.encode, {num1=0/0})
        assert(ok == true)
        return encoded
    """
    diff.check("EVAL", script, 0)
    diff.check("EVAL", "return {cjson.encode_max_depth(), cjson.decode_max_depth(),"
                       " cjson.encode_invalid_numbers()}", 0)
    diff.check("EVAL", "return {pcall(cjson.encode, {{1}})}", 0)
    diff.check("EVAL", "cjson.decode_max_depth(1000); cjson.encode_max_depth(1000);"
                       " cjson.encode_invalid_numbers(false); cjson.encode_keep_buffer(true)", 0)
    diff.check("EVAL", "return cjson.encode({a={b={c={1}}}})", 0)


def test_cmsgpack_smoke(diff):
    script = """
        local str_lt_32 = string.rep("x", 30)
        local str_lt_255 = string.rep("x", 250)
        local str_lt_65535 = string.rep("x", 65530)
        local str_long = string.rep("x", 100000)
        local array_big = {}
        for i = 1, 1000 do array_big[i] = i end
        local map_big = {}
        for i = 1, 1000 do map_big[tostring(i)] = i end
        local some_map = {s1=str_lt_32, s2=str_lt_255, s3=str_lt_65535, s4=str_long,
                          d1=0.1, i1=1, i2=250, i3=65530, i4=100000, i5=2^40, i6=-1,
                          i7=-120, i8=-32000, i9=-100000, i10=-3147483648,
                          a1={1, 2, 3, 4, 5}, a3=array_big, m1={a=1, b=2}, m2=map_big,
                          b1=false, b2=true}
        local encoded = cmsgpack.pack(some_map)
        local decoded = cmsgpack.unpack(encoded)
        assert(decoded.s4 == str_long and decoded.i10 == -3147483648 and decoded.a3[1000] == 1000)
        local offset, decoded_one = cmsgpack.unpack_one(encoded, 0)
        assert(offset == -1 and decoded_one.m2["999"] == 999)
        local multi = cmsgpack.pack(str_lt_32, str_lt_255, str_lt_65535, str_long)
        local obj
        offset, obj = cmsgpack.unpack_limit(multi, 1, 0)
        assert(obj == str_lt_32)
        offset, obj = cmsgpack.unpack_limit(multi, 1, offset)
        assert(obj == str_lt_255)
        return {offset, #encoded, redis.sha1hex(encoded)}
    """
    diff.check("EVAL", script, 0)


# -- shebang flags, EVAL_RO ---------------------------------------------------------

@pytest.mark.parametrize("script", [
    "#!not-lua\nreturn 1",
    "#!lua\nreturn 1",
    "#!lua badger=data\nreturn 1",
    "#!lua flags=allow-oom,what?\nreturn 1",
    "#!lua flags=\nreturn 1",
    "#!lua flags=no-writes,\nreturn 1",
    "#!lua flags=no-writes,no-writes\nreturn 1",
    "#!lua flags=\"no-writes\"\nreturn 1",
    "#!lua flags=no-writes flags=allow-oom\nreturn 1",
    "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1",
    "#!lua flags=NO-WRITES\nreturn 1",
    "#!lua",
    "#!\nreturn 1",
    "#! lua\nreturn 1",
    "#!lua 'unbalanced\nreturn 1",
    "#!lua\nerror('x')",
    "#!lua\n\nsyntax error",
    "#!lua flags=no-writes\nreturn redis.call('set','x','1')",
    "#!lua flags=no-writes\nreturn redis.pcall('set','x','1')",
    "#!lua flags=no-writes\nreturn redis.call('get','x')",
    "#!lua flags=no-writes\nreturn redis.call('publish','ch','m')",
    "#!lua\nreturn redis.call('set','x','1')",
])
def test_shebang(diff, script):
    diff.check("EVAL", script, 0)
    diff.check("EVAL_RO", script, 0)


@pytest.mark.parametrize("script", [
    "return redis.call('get', KEYS[1])",
    "return redis.call('set', KEYS[1], 'v')",
    "return redis.pcall('set', KEYS[1], 'v')",
    "return redis.pcall('del', KEYS[1])",
    "return redis.call('publish', 'ch', 'm')",
    "return redis.call('ping')",
])
def test_eval_ro(diff, script):
    diff.check("SET", "foo", "bar")
    diff.check("EVAL_RO", script, 1, "foo")
    sha = diff.check("SCRIPT", "LOAD", script)
    diff.check("EVALSHA_RO", sha, 1, "foo")
    diff.check("GET", "foo")


# -- EVAL / EVALSHA arguments and the script cache ---------------------------------------

def test_eval_arguments(diff, diff3):
    for d in (diff, diff3):
        d.check("EVAL", "return 1", "x")
        d.check("EVAL", "return 1", "2", "a")
        d.check("EVAL", "return 1", "-1")
        d.check("EVAL", "return 'hello'", "-12")
        d.check("EVAL", "return 1", "1.5")
        d.check("EVAL", "return 1", "")
        d.check("EVAL", "return 1")
        d.check("EVAL")
        d.check("EVAL", "return {#KEYS, #ARGV}", "0", "a", "b")
        d.check("EVAL", "return {#KEYS, #ARGV}", "3", "a", "b", "c")
        d.check("EVAL", "return KEYS", "2", "a{t}", "b{t}", "c{t}", "d{t}")
        d.check("EVALSHA", "abc", "x")
        d.check("EVALSHA", "a" * 40, "x")
        d.check("EVALSHA", "a" * 40, "0")
        d.check("EVALSHA", "ffd632c7d33e571e9f24556ebed26c3479a87130", "0")
        d.check("EVALSHA", "NotValidShaSUM", "0")
        d.check("EVALSHA_RO", "a" * 40, "0")


def test_evalsha_and_script_cache(diff):
    diff.check("SCRIPT", "FLUSH")
    diff.check("SET", "mykey", "myval")
    diff.check("EVAL", "return redis.call('get',KEYS[1])", 1, "mykey")
    diff.check("EVALSHA", "fd758d1589d044dd850a6f05d52f2eefd27f033f", 1, "mykey")
    diff.check("EVALSHA", "FD758D1589D044DD850A6F05D52F2EEFD27F033F", 1, "mykey")
    diff.check("SCRIPT", "EXISTS", "fd758d1589d044dd850a6f05d52f2eefd27f033f",
               "FD758D1589D044DD850A6F05D52F2EEFD27F033F", "0" * 40, "x")
    diff.check("SCRIPT", "LOAD", "return 'loaded'")
    diff.check("EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", 0)
    diff.check("SCRIPT", "LOAD", "return 'loaded'")
    diff.check("SCRIPT", "LOAD", "syntax error")
    diff.check("SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1")
    diff.check("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 1")
    diff.check("EVALSHA", sha1("#!lua flags=no-writes\nreturn 1"), 0)
    diff.check("EVALSHA_RO", sha1("#!lua flags=no-writes\nreturn 1"), 0)
    diff.check("SCRIPT", "LOAD")
    diff.check("SCRIPT", "LOAD", "a", "b")
    diff.check("SCRIPT", "EXISTS")
    diff.check("SCRIPT", "FLUSH")
    diff.check("EVALSHA", "fd758d1589d044dd850a6f05d52f2eefd27f033f", 1, "mykey")
    diff.check("SCRIPT", "EXISTS", "fd758d1589d044dd850a6f05d52f2eefd27f033f")
    diff.check("SCRIPT", "FLUSH", "ASYNC")
    diff.check("SCRIPT", "FLUSH", "sync")
    diff.check("SCRIPT", "FLUSH", "now")
    diff.check("SCRIPT", "FLUSH", "sync", "x")
    diff.check("SCRIPT", "KILL")
    diff.check("SCRIPT", "KILL", "x")
    diff.check("SCRIPT", "DEBUG", "maybe")
    diff.check("SCRIPT", "DEBUG", "no")
    diff.check("SCRIPT", "DEBUG")
    diff.check("SCRIPT", "HELP")
    diff.check("SCRIPT", "HELP", "x")
    diff.check("SCRIPT", "nosuch")
    diff.check("SCRIPT")


def test_script_flush_resets_the_interpreter(r):
    r.script_flush()
    for j in range(100):
        r.script_load(f"return {j}")
    assert r.info("memory")["number_of_cached_scripts"] == 100
    r.script_flush("ASYNC")
    assert r.info("memory")["number_of_cached_scripts"] == 0


def test_example_decr_if_gt(diff):
    script = """
        local current
        current = redis.call('get',KEYS[1])
        if not current then return nil end
        if current > ARGV[1] then
            return redis.call('decr',KEYS[1])
        else
            return redis.call('get',KEYS[1])
        end
    """
    diff.check("SET", "foo", "5")
    for _ in range(5):
        diff.check("EVAL", script, 1, "foo", "2")


def test_many_arguments(diff):
    diff.check("EVAL", "local x = {} for i = 1, 100 do table.insert(x, i) end;"
                       " redis.call('rpush', 'mylist', unpack(x));"
                       " return redis.call('lrange', 'mylist', 0, -1)", 1, "mylist")
    diff.check("EVAL", "local a = {} for i = 1, 7000 do a[i] = 1 end;"
                       " return redis.call('lpush', 'l', unpack(a))", 0)
    args = [str(i) for i in range(3000)]
    diff.check("EVAL", "return {#KEYS, #ARGV, KEYS[1000], ARGV[1000]}", 1000, *args)


def test_reused_argv(diff):
    diff.check("EVAL", """
        for i = 0, 10 do
            redis.call('SET', 'a{t}', '1')
            redis.call('MGET', 'a{t}', 'b{t}', 'c{t}')
            redis.call('EXPIRE', 'a{t}', 0)
            redis.call('GET', 'a{t}')
            redis.call('MGET', 'a{t}', 'b{t}', 'c{t}')
        end""", 3, "a{t}", "b{t}", "c{t}")


def test_script_sees_frozen_time(diff):
    script = """
        redis.call('SET', 'key', 'value', 'PX', '1')
        local t0 = redis.call('TIME')
        while true do
            local t = redis.call('TIME')
            if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 20000 then break end
        end
        return redis.call('EXISTS', 'key')
    """
    diff.check("EVAL", script, 0)
    time.sleep(0.01)
    diff.check("EXISTS", "key")


def test_expired_key_is_deleted_by_a_script(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.set("key", "value", px=1)
        time.sleep(0.01)
        assert r.eval("return redis.call('EXISTS', 'key')", 0) == 0
        assert r.exists("key") == 0
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_multi_exec_with_scripts(diff):
    diff.check("MULTI")
    diff.check("EVAL", "return redis.call('incr', KEYS[1])", 1, "x")
    diff.check("EVAL", "return redis.call('nosuch')", 0)
    diff.check("EVAL", "return redis.call('get', KEYS[1])", 1, "x")
    diff.check("EXEC")


# -- statistics ---------------------------------------------------------------------------

def _stat_of(r, section, key):
    info = r.info(section)
    return info.get(key)


def test_error_statistics(r):
    r.config_resetstat()
    with pytest.raises(Exception, match="DB index is out of range"):
        r.eval("return redis.call('select',99)", 0)
    assert _stat_of(r, "errorstats", "errorstat_ERR") == {"count": 1}
    assert r.info("stats")["total_error_replies"] == 1
    cs = r.info("commandstats")
    assert cs["cmdstat_select"]["failed_calls"] == 1
    assert cs["cmdstat_eval"]["failed_calls"] == 1

    r.config_resetstat()
    assert r.eval("local t = redis.pcall('select',99);"
                  " if t['err'] == 'ERR DB index is out of range' then return 1 end", 0) == 1
    assert _stat_of(r, "errorstats", "errorstat_ERR") == {"count": 1}
    assert r.info("commandstats")["cmdstat_eval"]["failed_calls"] == 0

    r.config_resetstat()
    with pytest.raises(Exception, match="Write commands are not allowed"):
        r.eval_ro("return redis.call('set','x','y')", 1, "x")
    assert _stat_of(r, "errorstats", "errorstat_ERR") == {"count": 1}
    cs = r.info("commandstats")
    assert cs["cmdstat_set"]["rejected_calls"] == 1
    assert cs["cmdstat_eval_ro"]["failed_calls"] == 1

    r.config_resetstat()
    r.set("Sicily", 1)
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.eval("return redis.call('LPUSH', 'Sicily', 'x')", 1, "x")
    assert _stat_of(r, "errorstats", "errorstat_WRONGTYPE") == {"count": 1}
    assert r.info("stats")["total_error_replies"] == 1

    r.config_resetstat()
    with pytest.raises(Exception, match="MY_ERR_CODE"):
        r.eval("return redis.error_reply('MY_ERR_CODE custom msg')", 0)
    assert _stat_of(r, "errorstats", "errorstat_MY_ERR_CODE") == {"count": 1}

    r.config_resetstat()
    assert r.eval("return redis.status_reply('MY_OK_CODE custom msg')", 0) == \
        b"MY_OK_CODE custom msg"
    assert r.info("stats")["total_error_replies"] == 0


# -- MONITOR, propagation, MULTI ---------------------------------------------------------

def test_monitor_shows_script_commands(server, r):
    mon = RawClient(port=server.port)
    mon.call("MONITOR")
    r.eval("redis.call('set', KEYS[1], 'v'); return redis.call('get', KEYS[1])", 1, "mk")
    lines = []
    while len(lines) < 3:
        lines.append(mon.read_reply()[1])
    mon.close()
    assert b'"EVAL"' in lines[0] and b"[0 127.0.0.1:" in lines[0]
    assert lines[1].endswith(b'[0 lua] "set" "mk" "v"')
    assert lines[2].endswith(b'[0 lua] "get" "mk"')


def _capture(server, fn):
    seen = []
    srv = server.server
    server.call_in_loop(srv.propagation_consumers.append,
                        lambda db, argv: seen.append((db, argv)))
    try:
        fn()
    finally:
        server.call_in_loop(srv.propagation_consumers.clear)
    return seen


def test_script_effects_propagate_as_one_transaction(server, r):
    seen = _capture(server, lambda: r.eval(
        "redis.call('set', 'a', '1'); redis.call('get', 'a'); redis.call('incr', 'b');"
        " redis.call('expire', 'a', 100); return 1", 0))
    argvs = [a for _, a in seen]
    assert argvs[0] == [b"MULTI"] and argvs[-1] == [b"EXEC"]
    assert argvs[1] == [b"set", b"a", b"1"]
    assert argvs[2] == [b"incr", b"b"]
    assert argvs[3][0].lower() == b"pexpireat"
    assert len(argvs) == 5


def test_single_write_propagates_alone_and_reads_not_at_all(server, r):
    seen = _capture(server, lambda: r.eval("return redis.call('set', 'a', '1')", 0))
    assert [a for _, a in seen] == [[b"set", b"a", b"1"]]
    seen = _capture(server, lambda: r.eval("return redis.call('get', 'a')", 0))
    assert seen == []


def test_set_repl_none_is_not_propagated(server, r):
    seen = _capture(server, lambda: r.eval("""
        redis.call('set','a','1')
        redis.set_repl(redis.REPL_NONE)
        redis.call('set','b','2')
        redis.set_repl(redis.REPL_ALL)
        redis.call('set','d','4')""", 0))
    argvs = [a for _, a in seen]
    assert [b"set", b"b", b"2"] not in argvs
    assert [b"set", b"a", b"1"] in argvs and [b"set", b"d", b"4"] in argvs
    assert r.mget("a", "b", "d") == [b"1", b"2", b"4"]


def test_select_in_script_propagates_with_db(server, r):
    seen = _capture(server, lambda: r.eval(
        "redis.call('set','foo1','bar1'); redis.call('select','10'); redis.call('incr','x');"
        " redis.call('select','11'); redis.call('incr','z')", 0))
    dbs = [(db, a[0]) for db, a in seen if a[0] not in (b"MULTI", b"EXEC")]
    assert dbs == [(0, b"set"), (10, b"incr"), (11, b"incr")]
    r.execute_command("SELECT", 10)
    r.flushdb()
    r.execute_command("SELECT", 11)
    r.flushdb()
    r.execute_command("SELECT", 0)


def test_pushes_in_a_script_wake_blocked_clients_after_it(server, r):
    blocked = server.client()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", blocked.brpop("a", 5)))
    t.start()
    deadline = time.monotonic() + 5
    while r.info("clients")["blocked_clients"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    r.eval("redis.call('lpush', KEYS[1], '1'); redis.call('lpush', KEYS[1], '2')", 1, "a")
    t.join(5)
    blocked.close()
    assert out["r"] == (b"a", b"1")
    assert r.lrange("a", 0, -1) == [b"2"]


# -- redis-py ---------------------------------------------------------------------------

def test_redis_py_lock(r):
    lock = r.lock("resource", timeout=5, blocking_timeout=1)
    assert lock.acquire()
    assert r.get("resource") is not None
    assert lock.locked() and lock.owned()
    assert lock.extend(10)
    assert r.pttl("resource") > 5000
    assert lock.reacquire()
    other = r.lock("resource", blocking_timeout=0.1)
    assert not other.acquire()
    lock.release()
    assert not lock.locked()
    assert other.acquire()
    other.release()
    r.script_flush()  # Lock falls back to SCRIPT LOAD / EVAL on NOSCRIPT
    with r.lock("resource2", timeout=5):
        assert r.exists("resource2")
    assert not r.exists("resource2")


def test_redis_py_register_script(r, r3):
    for client in (r, r3):
        client.script_flush()
        incr = client.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
        assert incr(keys=["counter"], args=[5]) == 5
        assert incr(keys=["counter"], args=[2]) == 7
        pipe = client.pipeline()
        incr(keys=["counter"], args=[1], client=pipe)
        incr(keys=["counter"], args=[1], client=pipe)
        assert pipe.execute() == [8, 9]
        hm = client.register_script(
            "redis.call('hset', KEYS[1], 'f', ARGV[1]); return redis.call('hgetall', KEYS[1])")
        assert hm(keys=["h"], args=["v"]) in ([b"f", b"v"], {b"f": b"v"})
        client.delete("counter", "h")


def test_redis_py_eval_ro_and_evalsha(r):
    r.set("foo", "bar")
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, "foo") == b"bar"
    sha = r.script_load("return redis.call('get', KEYS[1])")
    assert r.evalsha(sha, 1, "foo") == b"bar"
    assert r.evalsha_ro(sha, 1, "foo") == b"bar"
    assert r.script_exists(sha, "0" * 40) == [True, False]


# -- BUSY and SCRIPT KILL ------------------------------------------------------------------

@pytest.fixture
def busy_threshold(r):
    r.config_set("busy-reply-threshold", 20)
    yield
    r.config_set("busy-reply-threshold", 5000)


def _send(port, *args) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(encode_command(args))
    return s


def _wait_busy(c: RawClient) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        v = c.execute("PING")
        if isinstance(v, ReplyError):
            return
        time.sleep(0.01)
    raise AssertionError("the script never became busy")


def _read_all(s: socket.socket, end: bytes) -> bytes:
    data = b""
    while not data.endswith(end):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_busy_script_can_be_killed(server, r, busy_threshold):
    c = RawClient(port=server.port)
    s = _send(server.port, "EVAL", "while true do end", "0")
    _wait_busy(c)
    raw, v = c.call("PING")
    assert raw == b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or " \
                  b"SHUTDOWN NOSAVE.\r\n"
    assert c.call("FUNCTION", "KILL")[0].startswith(b"-BUSY")
    assert c.call("FUNCTION", "STATS")[0].startswith(b"-BUSY")
    assert c.call("SHUTDOWN")[0].startswith(b"-BUSY")
    assert c.execute("MULTI") == b"OK"
    assert c.call("GET", "x")[0].startswith(b"-BUSY")
    assert c.call("EXEC")[0].startswith(b"-EXECABORT Transaction discarded because of: BUSY")
    assert c.execute("SCRIPT", "KILL") == b"OK"
    reply = _read_all(s, b"\r\n")
    assert reply == (b"-ERR Script killed by user with SCRIPT KILL... script: "
                     + sha1("while true do end").encode() + b", on @user_script:1.\r\n")
    assert c.execute("PING") == b"PONG"
    s.close()
    c.close()


def test_busy_script_killed_even_inside_pcall(server, r, busy_threshold):
    c = RawClient(port=server.port)
    script = ("local f = function() while 1 do redis.call('ping') end end"
              " while 1 do pcall(f) end")
    s = _send(server.port, "EVAL", script, "0")
    _wait_busy(c)
    assert c.execute("SCRIPT", "KILL") == b"OK"
    assert b"killed by user" in _read_all(s, b"\r\n")
    assert c.execute("PING") == b"PONG"
    s.close()
    c.close()


def test_busy_script_with_pipelined_command(server, r, busy_threshold):
    """The client running the script is not read meanwhile; its next command
    runs once the script is gone."""
    c = RawClient(port=server.port)
    s = socket.create_connection(("127.0.0.1", server.port))
    s.settimeout(10)
    s.sendall(encode_command(["EVAL", "while 1 do redis.call('ping') end", "0"])
              + encode_command(["PING"]))
    _wait_busy(c)
    assert c.execute("SCRIPT", "KILL") == b"OK"
    data = _read_all(s, b"+PONG\r\n")
    assert b"killed by user" in data and data.endswith(b"+PONG\r\n")
    s.close()
    c.close()


def test_busy_script_caller_hears_its_reply_first(server, r, busy_threshold):
    """Other clients are answered during a busy script; its caller is not,
    not even a tracking invalidation its own write caused, as in Redis."""
    c = RawClient(port=server.port)  # connected before: new ones wait out the script
    caller = RawClient(port=server.port)
    caller.call("HELLO", "3")
    caller.call("CLIENT", "TRACKING", "ON")
    caller.call("GET", "tk")
    caller.send_raw(encode_command(["EVAL", "redis.call('set', 'tk', '1') local i = 0 "
                                    "while i < 20000000 do i = i + 1 end return 'done'", "0"]))
    _wait_busy(c)  # the busy poll answers c, and flushes what is pending
    first, second = caller.read_reply()[0], caller.read_reply()[0]
    assert first == b"$4\r\ndone\r\n"
    assert second.startswith(b">2\r\n$10\r\ninvalidate\r\n")
    caller.close()
    c.close()


def test_script_that_wrote_cannot_be_killed(server, r, busy_threshold):
    c = RawClient(port=server.port)
    script = """
        redis.call('set', KEYS[1], 'y')
        local t0 = redis.call('TIME')
        while true do
            local t = redis.call('TIME')
            if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 300000 then break end
        end
        return 'done'"""
    s = _send(server.port, "EVAL", script, "1", "x")
    _wait_busy(c)
    raw, _ = c.call("SCRIPT", "KILL")
    assert raw.startswith(b"-UNKILLABLE Sorry the script already executed write commands")
    assert c.call("PING")[0].startswith(b"-BUSY")
    assert _read_all(s, b"\r\n") == b"$4\r\ndone\r\n"
    assert c.execute("GET", "x") == b"y"
    s.close()
    c.close()


def test_timed_out_script_link_is_usable_after_it_returns(r, busy_threshold):
    assert r.eval("for i=1,100000 do redis.call('ping') end return 'ok'", 0) == b"ok"
    assert r.ping()


def test_long_script_below_threshold_is_not_busy(r):
    assert r.eval("local a = 0 for i=1,300000 do a = a + 1 end return a", 0) == 300000


# -- hypothesis: random scripts of commands ---------------------------------------------------

_KEYS = ("a", "b", "c")
_OPS = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(_KEYS), st.sampled_from(["1", "x", "10", ""])),
    st.tuples(st.just("get"), st.sampled_from(_KEYS)),
    st.tuples(st.just("incr"), st.sampled_from(_KEYS)),
    st.tuples(st.just("del"), st.sampled_from(_KEYS)),
    st.tuples(st.just("rpush"), st.sampled_from(_KEYS), st.sampled_from(["p", "q"])),
    st.tuples(st.just("lrange"), st.sampled_from(_KEYS), st.just("0"), st.just("-1")),
    st.tuples(st.just("hset"), st.sampled_from(_KEYS), st.just("f"), st.sampled_from(["1", "2"])),
    st.tuples(st.just("hgetall"), st.sampled_from(_KEYS)),
    st.tuples(st.just("zadd"), st.sampled_from(_KEYS), st.sampled_from(["1", "2.5"]),
              st.just("m")),
    st.tuples(st.just("zscore"), st.sampled_from(_KEYS), st.just("m")),
    st.tuples(st.just("exists"), st.sampled_from(_KEYS)),
    st.tuples(st.just("type"), st.sampled_from(_KEYS)),
    st.tuples(st.just("nosuch")),
    st.tuples(st.just("set"), st.sampled_from(_KEYS)),
)


def _lua_script(ops, resp3: bool, wrap: str) -> str:
    lines = ["redis.setresp(3)"] if resp3 else []
    lines.append("local out = {}")
    for op in ops:
        args = ", ".join(repr(a) for a in op)
        lines.append(f"out[#out + 1] = {wrap}({args})")
    lines.append("return out")
    return "\n".join(lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_OPS, min_size=1, max_size=8), resp3=st.booleans(), call=st.booleans())
def test_random_scripts(diff, diff3, ops, resp3, call):
    script = _lua_script(ops, resp3, "redis.call" if call else "redis.pcall")
    for d in (diff, diff3):
        d.flush()
        d.check("EVAL", script, 0)
