"""GEO commands: geohash arithmetic, integration, and differential tests
against redis-server (replies byte for byte, scores, distances, coordinates
and error texts included), with hypothesis-generated point sets and searches."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver import geohash

NYC = ["-73.9454966", "40.747533", "lic market",
       "-73.9733487", "40.7648057", "central park n/q/r",
       "-73.9903085", "40.7362513", "union square",
       "-74.0131604", "40.7126674", "wtc one",
       "-73.7858139", "40.6428986", "jfk",
       "-73.9375699", "40.7498929", "q4",
       "-73.9564142", "40.7480973", "4545"]
SICILY = ["13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]


# -- geohash arithmetic --------------------------------------------------------------------

def test_scores_are_redis_s():
    # Values from Redis's own test suite (unit/geo "Check geoset values").
    assert geohash.score_of(-74.0131604, 40.7126674) == 1791873972053020
    assert geohash.score_of(-73.7858139, 40.6428986) == 1791895905559723
    assert geohash.geohash_string(float(geohash.score_of(-5.6, 42.6))) == b"ezs42e44yx0"


def test_interleave_roundtrip():
    for x, y in ((0, 0), (1, 2), (0xFFFFFFFF, 0), (0x12345678, 0x9ABCDEF0)):
        assert geohash.deinterleave64(geohash.interleave64(x, y)) == (x, y)
    assert geohash.interleave64(1, 0) == 1 and geohash.interleave64(0, 1) == 2


def test_decode_is_inside_the_cell():
    for lon, lat in ((0.0, 0.0), (179.99, 85.0), (-180.0, -85.05112878), (13.361389, 38.115556)):
        dlon, dlat = geohash.decode_score(float(geohash.score_of(lon, lat)))
        assert abs(dlon - lon) < 1e-5 and abs(dlat - lat) < 1e-5


def test_c_casts():
    assert geohash.score_to_bits(-1.0) == 2**64 - 1
    assert geohash.score_to_bits(math.inf) == 0
    assert geohash.score_to_bits(2.0**63) == 2**63
    assert geohash.c_llong(math.nan) == -(2**63)
    assert geohash.c_llong(-2.5) == -2


def test_number_formatting():
    assert geohash.format_distance(0.0) == b"0.0000"
    # d * 10000 is exactly 0.5 and 2.5 here: llrint rounds ties to even.
    assert geohash.format_distance(0.00005) == b"0.0000"
    assert geohash.format_distance(0.00025) == b"0.0002"
    assert geohash.format_distance(0.00035) == b"0.0004"
    assert geohash.format_distance(2.36513) == b"2.3651"
    assert geohash.format_distance(math.nan) == b"-922337203685477.5808"
    assert geohash.format_coord(-0.0) == b"0"
    assert geohash.format_coord(13.5) == b"13.5"
    assert geohash.format_coord(10.0) == b"10"


def test_search_boxes_cover_the_area():
    s = geohash.Shape()
    s.type, s.lon, s.lat, s.radius, s.conversion = geohash.CIRCULAR, 15.0, 37.0, 200.0, 1000.0
    steps, boxes = geohash.search_boxes(s)
    assert 1 <= steps <= 26
    assert boxes[0] is not None and len(boxes) == 9


# -- integration ---------------------------------------------------------------------------

def test_geo_key_is_a_zset(r):
    assert r.geoadd("g", SICILY) == 2
    assert r.type("g") == b"zset"
    assert r.zcard("g") == 2
    assert r.zrem("g", "Palermo") == 1
    assert r.geopos("g", "Palermo") == [None]


def test_search_does_not_scan_the_whole_set(server, r, monkeypatch):
    # 20000 points around the world; a 50 km search must look at a few boxes only.
    args = []
    for i in range(20000):
        args += [str(-179 + (i * 7919 % 35800) / 100), str(-80 + (i * 104729 % 16000) / 100),
                 f"p{i}"]
    r.geoadd("many", args)
    calls = []
    real = geohash.within

    def counting(s, lon, lat):
        calls.append(1)
        return real(s, lon, lat)

    monkeypatch.setattr(geohash, "within", counting)
    r.geosearch("many", longitude=10, latitude=10, radius=50, unit="km")
    assert 0 < len(calls) < 500


def test_geoadd_propagates_as_zadd(r, propagated, events):
    r.geoadd("g", SICILY)
    assert propagated == [[b"zadd", b"g", b"3479099956230698", b"Palermo",
                           b"3479447370796909", b"Catania"]]
    r.execute_command("GEOADD", "g", "XX", "CH", "13.361389", "38.115556", "Palermo")
    assert len(propagated) == 1  # nothing changed: nothing propagated
    assert ("z", "zadd", b"g") in events


def test_store_notifies_and_propagates(r, propagated, events):
    r.geoadd("src", SICILY)
    del propagated[:]
    assert r.execute_command("GEORADIUS", "src", "15", "37", "200", "km", "STORE", "dst") == 2
    assert propagated == [[b"GEORADIUS", b"src", b"15", b"37", b"200", b"km", b"STORE", b"dst"]]
    assert ("z", "georadiusstore", b"dst") in events
    r.execute_command("GEOSEARCHSTORE", "dst2", "src", "FROMLONLAT", "15", "37",
                      "BYRADIUS", "200", "km")
    assert ("z", "geosearchstore", b"dst2") in events
    r.execute_command("GEOSEARCHSTORE", "dst2", "src", "FROMLONLAT", "0", "0",
                      "BYRADIUS", "1", "km")
    assert r.exists("dst2") == 0
    assert ("g", "del", b"dst2") in events


def test_store_replaces_ttl_and_type(r):
    r.geoadd("src", SICILY)
    r.set("dst", "x", ex=100)
    assert r.execute_command("GEORADIUS", "src", "15", "37", "200", "km", "STORE", "dst") == 2
    assert r.type("dst") == b"zset" and r.ttl("dst") == -1


# -- differential ------------------------------------------------------------------------------

def test_geoadd_like_redis(diff):
    diff.check("GEOADD", "nyc", *NYC)
    diff.check("ZRANGE", "nyc", "0", "-1", "WITHSCORES")
    for args in (["-73.9454966", "40.747533", "lic market"],
                 ["CH", "40.747533", "-73.9454966", "lic market"],
                 ["NX", "-73.9454966", "40.747533", "lic market"],
                 ["XX", "-83.9454966", "40.747533", "lic market"],
                 ["CH", "NX", "-73.9454966", "40.747533", "lic market"],
                 ["CH", "XX", "-73.9454966", "40.747533", "lic market"],
                 ["ch", "ch", "xx", "1", "2", "new"],
                 ["xx", "nx", "-73.9454966", "40.747533", "lic market"],
                 ["ch", "xx", "foo", "-73.9454966", "40.747533", "lic market"],
                 ["GT", "1", "2", "m"],
                 ["1", "2"],
                 ["nx", "ch", "ch"],
                 ["-73.9454966", "40.747533", "lic market", "foo", "bar", "luck market"],
                 ["181", "1", "m"], ["-180.0000001", "1", "m"], ["1", "85.05112879", "m"],
                 ["1", "-85.06", "m"], ["inf", "1", "m"], ["1", "-inf", "m"],
                 ["1e300", "1", "m"], ["1", "nan", "m"], ["0x10", "0x1p3", "hex"],
                 [" 1", "2", "m"], ["1", "2 ", "m"], ["", "2", "m"], ["1_0", "2", "m"],
                 ["-0", "-0", "zero"], ["180", "85.05112878", "corner"],
                 ["-180", "-85.05112878", "corner2"], ["1e-320", "-1e-320", "tiny"]):
        diff.check("GEOADD", "g", *args)
    diff.check("ZRANGE", "g", "0", "-1", "WITHSCORES")
    diff.check("ZRANGE", "nyc", "0", "-1", "WITHSCORES")
    diff.check("GEOADD", "g")
    diff.check("GEOADD", "g", "1", "2")
    diff.check("SET", "s", "x")
    diff.check("GEOADD", "s", "1", "2", "m")


def test_geopos_geohash_geodist_like_redis(diff, diff3):
    for d in (diff, diff3):
        d.flush()
        d.check("GEOADD", "nyc", *NYC)
        d.check("GEOADD", "pts", "10", "20", "a", "30", "40", "b", "-5.6", "42.6", "test",
                "180", "85.05112878", "c1", "-180", "-85.05112878", "c2", "0", "0", "o")
        d.check("GEOPOS", "pts", "a", "x", "b", "test", "c1", "c2", "o")
        d.check("GEOPOS", "nyc", *NYC[2::3])
        d.check("GEOPOS", "nokey", "a", "b")
        d.check("GEOHASH", "pts", "a", "x", "b", "test", "c1", "c2", "o")
        d.check("GEOHASH", "nyc", *NYC[2::3])
        d.check("GEOHASH", "nokey", "a")
        for unit in ("m", "km", "ft", "mi", "M", "Km", "FT", "mI"):
            d.check("GEODIST", "nyc", "wtc one", "jfk", unit)
        d.check("GEODIST", "pts", "c1", "c2")
        d.check("GEODIST", "pts", "a", "a")
        d.check("GEODIST", "pts", "a", "b")
        d.check("GEODIST", "pts", "o", "test", "km")
        d.check("GEODIST", "pts", "a", "nope")
        d.check("GEODIST", "pts", "nope", "a")
        d.check("GEODIST", "nokey", "a", "b")
        d.check("GEODIST", "pts", "a", "b", "parsec")
        d.check("GEODIST", "nokey", "a", "b", "parsec")
        d.check("GEODIST", "pts", "a", "b", "km", "extra")
        d.check("GEODIST", "pts", "a")
        d.check("GEOPOS", "pts")
        d.check("GEOHASH", "pts")
        d.check("SET", "s", "x")
        d.check("GEOPOS", "s", "a")
        d.check("GEOHASH", "s", "a")
        d.check("GEODIST", "s", "a", "b")


def test_arbitrary_scores_decode_like_redis(diff, diff3):
    """Any zset can be read as a geo set: Redis casts each score to 64 bits."""
    scores = ["-1", "0", "1", "inf", "-inf", "1e300", "-1e300", "9007199254740993", "1e19",
              "4503599627370496", "4503599627370495.5", "-0.5", "2e-300", "18446744073709551615",
              "9223372036854775807", "-9223372036854775808", "123456789.987"]
    for d in (diff, diff3):
        d.flush()
        args = []
        for i, s in enumerate(scores):
            args += [s, f"m{i}"]
        d.check("ZADD", "w", *args)
        members = [f"m{i}" for i in range(len(scores))]
        d.check("GEOPOS", "w", *members)
        d.check("GEOHASH", "w", *members)
        for i in range(0, len(members), 3):
            d.check("GEODIST", "w", members[i], members[-1 - i], "km")
        d.check("GEORADIUS", "w", "0", "0", "inf", "km", "WITHDIST", "WITHHASH", "WITHCOORD")
        d.check("GEOSEARCH", "w", "FROMMEMBER", "m3", "BYBOX", "40000", "40000", "km",
                "WITHDIST", "WITHHASH", "WITHCOORD", "ASC")
        d.check("GEORADIUSBYMEMBER", "w", "m6", "20000", "km", "WITHHASH", "DESC")


def test_searches_like_redis(diff, diff3):
    for d in (diff, diff3):
        d.flush()
        d.check("GEOADD", "nyc", *NYC)
        c = ["-73.9798091", "40.7598464"]
        with_all = ["WITHDIST", "WITHHASH", "WITHCOORD"]
        for extra in ([], ["ASC"], ["DESC"], ["COUNT", "3"], ["COUNT", "3", "ANY"],
                      ["COUNT", "3", "ANY", "ASC"], ["COUNT", "2", "DESC"], with_all,
                      ["withdist"], ["withhash"], ["withcoord"], ["COUNT", "100"],
                      ["ASC", "DESC"], ["COUNT", "1", "COUNT", "2"], with_all + ["COUNT", "2"]):
            d.check("GEORADIUS", "nyc", *c, "10", "km", *extra)
            d.check("GEORADIUS_RO", "nyc", *c, "3", "km", *extra)
            d.check("GEORADIUSBYMEMBER", "nyc", "wtc one", "7", "km", *extra)
            d.check("GEORADIUSBYMEMBER_RO", "nyc", "q4", "7000", "m", *extra)
            d.check("GEOSEARCH", "nyc", "FROMLONLAT", *c, "BYBOX", "6", "6", "km", *extra)
            d.check("GEOSEARCH", "nyc", "FROMMEMBER", "wtc one", "BYRADIUS", "5", "mi", *extra)
            d.check("GEOSEARCH", "nyc", *extra, "FROMMEMBER", "jfk", "BYBOX", "60000", "30000",
                    "ft")
        d.check("GEORADIUS", "nyc", "0", "0", "50000", "km", "WITHCOORD")
        d.check("GEORADIUS", "nyc", "0", "0", "0", "km")
        d.check("GEORADIUS", "nyc", "-73.9454966", "40.747533", "0", "km")
        d.check("GEOSEARCH", "nyc", "FROMMEMBER", "q4", "BYBOX", "0", "0", "m")


def test_store_like_redis(diff):
    diff.check("GEOADD", "nyc", *NYC)
    c = ["-73.9798091", "40.7598464"]
    cases = [
        ["GEORADIUS", "nyc", *c, "10", "km", "STORE", "dst"],
        ["GEORADIUS", "nyc", *c, "10", "km", "STOREDIST", "dst"],
        ["GEORADIUS", "nyc", *c, "10", "mi", "STOREDIST", "dst", "COUNT", "2", "DESC"],
        ["GEORADIUS", "nyc", *c, "10", "km", "STORE", "a", "STOREDIST", "dst"],
        ["GEORADIUS", "nyc", *c, "10", "km", "STOREDIST", "a", "STORE", "dst", "ASC"],
        ["GEORADIUSBYMEMBER", "nyc", "jfk", "30", "km", "STORE", "dst", "COUNT", "3", "ANY"],
        ["GEORADIUSBYMEMBER", "nyc", "jfk", "30", "ft", "STOREDIST", "dst"],
        ["GEOSEARCHSTORE", "dst", "nyc", "FROMLONLAT", *c, "BYRADIUS", "10", "km"],
        ["GEOSEARCHSTORE", "dst", "nyc", "FROMLONLAT", *c, "BYRADIUS", "10", "km", "STOREDIST"],
        ["GEOSEARCHSTORE", "dst", "nyc", "FROMMEMBER", "q4", "BYBOX", "10", "10", "km",
         "STOREDIST", "COUNT", "3"],
        ["GEOSEARCHSTORE", "nyc", "nyc", "FROMMEMBER", "q4", "BYBOX", "10", "10", "km"],
    ]
    for cmd in cases:
        diff.check(*cmd)
        diff.check("ZRANGE", "dst", "0", "-1", "WITHSCORES")
        diff.check("OBJECT", "ENCODING", "dst")
    diff.check("GEOADD", "nyc", *NYC)
    diff.check("CONFIG", "SET", "zset-max-listpack-entries", "2")
    try:
        diff.check("GEORADIUS", "nyc", *c, "10", "km", "STORE", "dst")
        diff.check("OBJECT", "ENCODING", "dst")
    finally:
        diff.check("CONFIG", "SET", "zset-max-listpack-entries", "128")
    diff.check("SET", "dst", "x")
    diff.check("GEORADIUS", "nyc", "0", "0", "1", "km", "STORE", "dst")  # empty: dst deleted
    diff.check("EXISTS", "dst")
    diff.check("SET", "dst", "x")
    diff.check("GEORADIUS", "nokey", "0", "0", "1", "km", "STORE", "dst")
    diff.check("EXISTS", "dst")
    diff.check("GEOSEARCHSTORE", "dst", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km")


def test_search_errors_like_redis(diff):
    diff.check("GEOADD", "src", *SICILY)
    diff.check("SET", "str", "x")
    c = ["13.361389", "38.115556"]
    for cmd in (
        ["GEORADIUS", "str", *c, "1", "km"],
        ["GEORADIUS", "str", "x", "y", "z", "w"],
        ["GEORADIUSBYMEMBER", "str", "m", "1", "km"],
        ["GEOSEARCH", "str", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ["GEOSEARCHSTORE", "d", "str", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ["GEOSEARCHSTORE", "str", "src", "FROMLONLAT", *c, "BYRADIUS", "1", "km"],
        ["GEORADIUS", "src", "x", "38", "1", "km"],
        ["GEORADIUS", "src", "200", "38", "1", "km"],
        ["GEORADIUS", "src", *c, "x", "km"],
        ["GEORADIUS", "src", *c, "-1", "km"],
        ["GEORADIUS", "src", *c, "1", "parsec"],
        ["GEORADIUS", "src", *c, "1", "km", "COUNT"],
        ["GEORADIUS", "src", *c, "1", "km", "COUNT", "0"],
        ["GEORADIUS", "src", *c, "1", "km", "COUNT", "-5"],
        ["GEORADIUS", "src", *c, "1", "km", "COUNT", "x"],
        ["GEORADIUS", "src", *c, "1", "km", "ANY"],
        ["GEORADIUS", "src", *c, "1", "km", "ANY", "COUNT", "1"],
        ["GEORADIUS", "src", *c, "1", "km", "STORE"],
        ["GEORADIUS", "src", *c, "1", "km", "STORE", "d", "WITHDIST"],
        ["GEORADIUS", "src", *c, "1", "km", "WITHHASH", "STOREDIST", "d"],
        ["GEORADIUS", "src", *c, "1", "km", "FROMMEMBER", "Palermo"],
        ["GEORADIUS", "src", *c, "1", "km", "bogus"],
        ["GEORADIUS_RO", "src", *c, "1", "km", "STORE", "d"],
        ["GEORADIUSBYMEMBER_RO", "src", "Palermo", "1", "km", "STOREDIST", "d"],
        ["GEORADIUSBYMEMBER", "src", "nope", "1", "km"],
        ["GEORADIUSBYMEMBER", "src", "nope", "x", "km"],
        ["GEORADIUSBYMEMBER", "src", "Palermo", "x", "km"],
        ["GEORADIUSBYMEMBER", "nokey", "m", "x", "parsec", "STORE", "d"],
        ["GEORADIUSBYMEMBER", "nokey", "m", "1", "km", "bogus"],
        ["GEORADIUSBYMEMBER", "nokey", "m", "1", "km", "WITHDIST", "STORE", "d"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "FROMMEMBER", "x", "BYBOX", "6", "6", "km"],
        ["GEOSEARCH", "src", "FROMMEMBER", "Palermo", "FROMMEMBER", "Catania", "BYRADIUS",
         "300", "km"],
        ["GEOSEARCH", "src", "BYBOX", "3", "3", "km", "ASC", "DESC", "WITHHASH"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYRADIUS", "3", "km", "BYBOX", "3", "3", "km"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "ASC", "DESC", "WITHHASH", "WITHDIST"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "6", "6", "km", "STOREDIST"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "6", "6", "km", "STORE", "d"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "x", "6", "km"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "6", "x", "km"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "-6", "6", "km"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "6", "6", "yd"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "6", "6"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYRADIUS", "6"],
        ["GEOSEARCH", "src", "FROMLONLAT", "0", "BYRADIUS", "6", "km"],
        ["GEOSEARCH", "src", "FROMMEMBER", "nope", "BYRADIUS", "6", "km"],
        ["GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "6", "km"],
        ["GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "6", "km", "ANY"],
        ["GEOSEARCH", "nokey", "BYRADIUS", "6", "km", "FROMMEMBER", "m"],
        ["GeoSearch", "src", "BYRADIUS", "6", "km", "WITHDIST", "COUNT", "2"],
        ["GEOSEARCHSTORE", "d", "src", "BYRADIUS", "6", "km", "FROMMEMBER", "Palermo",
         "WITHDIST"],
        ["GEOSEARCHSTORE", "d", "src", "FROMLONLAT", *c, "BYRADIUS", "50", "km", "STORE", "x"],
        ["GEOSEARCHSTORE", "d", "src", "FROMLONLAT", *c, "BYRADIUS", "50", "km", "ANY"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYRADIUS", "inf", "km", "WITHDIST"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYRADIUS", "1e308", "km", "WITHDIST"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "inf", "1", "km", "WITHDIST"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYBOX", "1", "inf", "mi", "WITHDIST"],
        ["GEORADIUS", "src", *c],
        ["GEORADIUSBYMEMBER", "src", "Palermo", "1"],
        ["GEOSEARCH", "src", "FROMLONLAT", *c, "BYRADIUS"],
        ["GEOSEARCHSTORE", "d", "src", "FROMLONLAT", *c, "BYRADIUS"],
    ):
        diff.check(*cmd)


def test_pole_and_antimeridian_cases_like_redis(diff):
    for cmd in (
        ["GEOADD", "k1", "-0.15307903289794921875", "85", "n1", "0.3515625",
         "85.00019260486917005437", "n2"],
        ["GEORADIUSBYMEMBER", "k1", "n1", "4891.94", "m"],
        ["GEOADD", "k1", "-4.95211958885192871094", "85", "n3", "11.25", "85.0511", "n4"],
        ["GEORADIUSBYMEMBER", "k1", "n3", "156544", "m"],
        ["GEOADD", "k1", "-45", "65.50900022111811438208", "n5", "90", "85.0511", "n6"],
        ["GEORADIUSBYMEMBER", "k1", "n5", "5009431", "m", "WITHDIST"],
        ["GEOADD", "k2", "45", "65", "n1", "-135", "85.05", "n2"],
        ["GEORADIUSBYMEMBER", "k2", "n1", "5009431", "m", "WITHCOORD"],
        ["GEOADD", "p", "179.5", "36", "point1", "-179.5", "36", "point2"],
        ["GEOSEARCH", "p", "FROMLONLAT", "179", "37", "BYBOX", "400", "400", "km", "ASC"],
        ["GEOSEARCH", "p", "FROMLONLAT", "-179", "37", "BYBOX", "400", "400", "km", "ASC"],
        ["GEOADD", "s", "-122.407107", "37.794300", "1", "-122.227336", "37.794300", "2"],
        ["GEORADIUS", "s", "-122.407107", "37.794300", "30", "mi", "ASC", "WITHDIST"],
        ["GEOADD", "users", "-47.271613776683807", "-54.534504198047678", "user_000000"],
        ["GEORADIUS", "users", "0", "0", "50000", "km", "WITHCOORD"],
        ["GEOSEARCH", "k1", "FROMLONLAT", "0", "-85", "BYRADIUS", "20000", "km", "DESC"],
    ):
        diff.check(*cmd)


def test_ties_keep_redis_order(diff):
    """Members at the same place: qsort's stable order, and pqsort's with COUNT."""
    args = []
    for i in range(60):
        args += ["2.5", "3.5", f"same{i:02d}"] if i % 3 else ["2.6", "3.4", f"near{i:02d}"]
    diff.check("GEOADD", "t", *args)
    for extra in (["ASC"], ["DESC"], ["COUNT", "5"], ["COUNT", "45", "DESC"],
                  ["COUNT", "7", "ANY", "DESC"], ["COUNT", "59", "ASC"]):
        diff.check("GEOSEARCH", "t", "FROMLONLAT", "2.5", "3.5", "BYRADIUS", "50", "km", *extra)
        diff.check("GEORADIUS", "t", "2.55", "3.45", "50", "km", "WITHDIST", *extra)


# -- hypothesis ----------------------------------------------------------------------------------

_lon = st.one_of(st.floats(-180, 180), st.sampled_from([-180.0, 180.0, 0.0, -0.0, 179.9999]))
_lat = st.one_of(st.floats(geohash.LAT_MIN, geohash.LAT_MAX),
                 st.sampled_from([geohash.LAT_MIN, geohash.LAT_MAX, 0.0, 66.5, -80.5]))


def _num(x: float) -> str:
    return repr(x)


@st.composite
def _point_sets(draw):
    n_clusters = draw(st.integers(1, 3))
    pts = []
    for _ in range(n_clusters):
        clon, clat = draw(_lon), draw(_lat)
        spread = draw(st.sampled_from([0.0, 0.01, 0.5, 5.0, 60.0]))
        for _ in range(draw(st.integers(1, 25))):
            lon = min(180.0, max(-180.0, clon + draw(st.floats(-1, 1)) * spread))
            lat = min(geohash.LAT_MAX, max(geohash.LAT_MIN,
                                           clat + draw(st.floats(-1, 1)) * spread))
            pts.append((lon, lat))
    return pts


_unit = st.sampled_from(["m", "km", "ft", "mi", "KM"])
_size = st.one_of(st.sampled_from(["0", "1", "50", "1000", "20000"]),
                  st.floats(0, 30000).map(_num))


@st.composite
def _search(draw, members: list[str]):
    base = draw(st.sampled_from(["GEORADIUS", "GEORADIUSBYMEMBER", "GEOSEARCH",
                                 "GEOSEARCHSTORE", "GEORADIUS_RO"]))
    if draw(st.booleans()) and members:
        center = ("member", draw(st.sampled_from(members)))
    else:
        center = ("lonlat", _num(draw(_lon)), _num(draw(_lat)))
    opts = []
    if draw(st.booleans()):
        opts.append(draw(st.sampled_from(["ASC", "DESC"])))
    if draw(st.booleans()):
        opts += ["COUNT", str(draw(st.integers(1, 30)))]
        if draw(st.booleans()):
            opts.append("ANY")
    store = base == "GEOSEARCHSTORE"
    if not store:
        for w in ("WITHDIST", "WITHHASH", "WITHCOORD"):
            if draw(st.booleans()):
                opts.append(w)
    elif draw(st.booleans()):
        opts.append("STOREDIST")
    opts = draw(st.permutations(opts))
    if base in ("GEOSEARCH", "GEOSEARCHSTORE"):
        frm = (["FROMMEMBER", center[1]] if center[0] == "member"
               else ["FROMLONLAT", center[1], center[2]])
        if draw(st.booleans()):
            by = ["BYRADIUS", draw(_size), draw(_unit)]
        else:
            by = ["BYBOX", draw(_size), draw(_size), draw(_unit)]
        head = [base, "dst", "geo"] if store else [base, "geo"]
        return head + frm + by + list(opts)
    radius = [draw(_size), draw(_unit)]
    if center[0] == "member" or base == "GEORADIUSBYMEMBER":
        m = center[1] if center[0] == "member" else "p0"
        base = "GEORADIUSBYMEMBER" if base == "GEORADIUS" else base
        if base == "GEORADIUS_RO":
            base = "GEORADIUSBYMEMBER_RO"
        return [base, "geo", m] + radius + list(opts)
    return [base, "geo", center[1], center[2]] + radius + list(opts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_random_searches_like_redis(diff, data):
    diff.flush()
    pts = data.draw(_point_sets())
    args = []
    for i, (lon, lat) in enumerate(pts):
        args += [_num(lon), _num(lat), f"p{i}"]
    diff.check("GEOADD", "geo", *args)
    members = [f"p{i}" for i in range(len(pts))] + ["missing"]
    for _ in range(data.draw(st.integers(1, 6))):
        cmd = data.draw(_search(members))
        diff.check(*cmd)
        if cmd[0] == "GEOSEARCHSTORE":
            diff.check("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    a, b = data.draw(st.sampled_from(members)), data.draw(st.sampled_from(members))
    diff.check("GEODIST", "geo", a, b, data.draw(_unit))
    diff.check("GEOPOS", "geo", a, b)
    diff.check("GEOHASH", "geo", a, b)


def test_command_info_like_redis(diff):
    for name in ("geoadd", "geodist", "geohash", "geopos", "georadius", "georadiusbymember",
                 "georadius_ro", "georadiusbymember_ro", "geosearch", "geosearchstore"):
        diff.check("COMMAND", "INFO", name)
    for cmd in (["GEORADIUS", "k", "1", "2", "3", "km", "STORE", "a", "STOREDIST", "b"],
                ["GEORADIUSBYMEMBER", "k", "m", "3", "km", "store", "x"],
                ["GEORADIUS", "k", "1", "2", "3", "km"],
                ["GEOSEARCHSTORE", "d", "s", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"]):
        diff.check("COMMAND", "GETKEYS", *cmd)


@pytest.mark.parametrize("cmd", ["GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEORADIUS",
                                 "GEORADIUSBYMEMBER", "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO",
                                 "GEOSEARCH", "GEOSEARCHSTORE"])
def test_arity_like_redis(diff, cmd):
    diff.check(cmd)
    diff.check(cmd, "k")


def test_in_scripts_and_transactions_like_redis(diff, diff3):
    for d in (diff, diff3):
        d.flush()
        d.check("GEOADD", "g", *SICILY)
        for script in ("return redis.call('GEOPOS','g','Palermo','nope')",
                       "redis.setresp(3); return redis.call('GEOPOS','g','Palermo','nope')",
                       "redis.setresp(3); return redis.call('GEORADIUS','g','15','37','200',"
                       "'km','WITHCOORD','WITHDIST','WITHHASH')",
                       "return redis.call('GEORADIUS','g','15','37','200','km','WITHCOORD',"
                       "'WITHDIST','WITHHASH')",
                       "return redis.call('GEODIST','g','Palermo','Catania')",
                       "return redis.call('GEOHASH','g','Palermo','x')"):
            d.check("EVAL", script, "0")
        d.check("MULTI")
        d.check("GEOPOS", "g", "Palermo")
        d.check("GEOADD", "g", "1", "1", "x")
        d.check("GEOSEARCH", "g", "FROMMEMBER", "x", "BYRADIUS", "1", "km", "WITHCOORD")
        d.check("EXEC")
