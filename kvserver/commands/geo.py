"""GEO commands (Redis 7.0's geo.c), on sorted sets.

A geo key is an ordinary sorted set whose scores are 52-bit geohashes
(kvserver.geohash): GEOADD is ZADD with the score computed from the
coordinates (and is propagated as that ZADD), ZRANGE/ZREM work on geo keys.

Searches (GEORADIUS*, GEOSEARCH*) scan the nine geohash boxes Redis picks,
each a score range of the sorted set, keep the members inside the shape,
then sort them by distance as Redis does: glibc's qsort (a stable merge
sort, as sorted() is) for a full sort, Redis's pqsort when COUNT cuts the
result, so members at equal distances come out in Redis's order too.

Coordinates are replied as Redis's addReplyHumanLongDouble writes them
(a bulk string in RESP2, a double in RESP3), distances with 4 decimals
(always a bulk string).
"""

from __future__ import annotations

from kvserver import errors, geohash
from kvserver.args import to_int
from kvserver.commands.sort import pqsort
from kvserver.commands.zsets import parse_score, zadd
from kvserver.errors import CommandError
from kvserver.geohash import CIRCULAR, RECTANGLE, Shape
from kvserver.resp import NULL_ARRAY, Raw
from kvserver.table import command
from kvserver.types.zset import ZSet

ERR_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
ERR_DECODE_MEMBER = "ERR could not decode requested zset member"
ERR_NEED_RADIUS = "ERR need numeric radius"
ERR_RADIUS_NEGATIVE = "ERR radius cannot be negative"
ERR_NEED_WIDTH = "ERR need numeric width"
ERR_NEED_HEIGHT = "ERR need numeric height"
ERR_BOX_NEGATIVE = "ERR height or width cannot be negative"
ERR_COUNT = "ERR COUNT must be > 0"
ERR_ANY_COUNT = "ERR the ANY argument requires COUNT argument"

_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}

# georadiusGeneric's flags
_COORDS = 1      # search around coordinates (GEORADIUS)
_MEMBER = 2      # search around a member (GEORADIUSBYMEMBER)
_NOSTORE = 4     # no STORE/STOREDIST (the _RO variants)
_SEARCH = 8      # GEOSEARCH syntax
_SEARCHSTORE = 16

_SORT_NONE, _SORT_ASC, _SORT_DESC = 0, 1, 2


# -- argument helpers ------------------------------------------------------------------------

def _unit(b: bytes) -> float:
    u = _UNITS.get(b.lower())
    if u is None:
        raise CommandError(ERR_UNIT)
    return u


def _lonlat(lon_arg: bytes, lat_arg: bytes) -> tuple[float, float]:
    """extractLongLatOrReply."""
    lon = parse_score(lon_arg)
    lat = parse_score(lat_arg)
    if lon < geohash.LONG_MIN or lon > geohash.LONG_MAX \
            or lat < geohash.LAT_MIN or lat > geohash.LAT_MAX:
        raise CommandError(f"ERR invalid longitude,latitude pair {lon:f},{lat:f}")
    return lon, lat


def _radius(s: Shape, radius_arg: bytes, unit_arg: bytes) -> None:
    r = parse_score(radius_arg, ERR_NEED_RADIUS)
    if r < 0:
        raise CommandError(ERR_RADIUS_NEGATIVE)
    s.radius = r
    s.conversion = _unit(unit_arg)


def _box(s: Shape, w_arg: bytes, h_arg: bytes, unit_arg: bytes) -> None:
    w = parse_score(w_arg, ERR_NEED_WIDTH)
    h = parse_score(h_arg, ERR_NEED_HEIGHT)
    if h < 0 or w < 0:
        raise CommandError(ERR_BOX_NEGATIVE)
    s.width = w
    s.height = h
    s.conversion = _unit(unit_arg)


def _member_lonlat(zs: ZSet, member: bytes) -> tuple[float, float]:
    score = zs.dict.get(member)
    if score is None:
        raise CommandError(ERR_DECODE_MEMBER)
    return geohash.decode_score(score)


# -- GEOADD ----------------------------------------------------------------------------------

_GEOADD_OPTS = (b"nx", b"xx", b"ch")


@command("geoadd", arity=-5, flags="write denyoom", keys=(1, 1, 1), group="geo",
         since="3.2.0",
         summary="Add one or more geospatial items in the geospatial index represented "
                 "using a sorted set",
         complexity="O(log(N)) for each item added, where N is the number of elements in "
                    "the sorted set.",
         args="key [NX|XX] [CH] (longitude:double latitude:double member)...",
         history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),))
def geoadd(c, argv):
    n = len(argv)
    i = 2
    nx = xx = False
    while i < n:
        opt = argv[i].lower()
        if opt not in _GEOADD_OPTS:
            break
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        i += 1
    if (n - i) % 3 or (xx and nx):
        raise CommandError(errors.SYNTAX)
    # Rewrite as ZADD key [options] score member ... and let ZADD do the work.
    zargv = [b"zadd"] + argv[1:i]
    for j in range(i, n, 3):
        lon, lat = _lonlat(argv[j], argv[j + 1])
        zargv.append(b"%d" % geohash.score_of(lon, lat))
        zargv.append(argv[j + 2])
    c.propagate_as = [zargv]
    return zadd(c, zargv)


# -- GEORADIUS / GEOSEARCH -----------------------------------------------------------------

def _points_in_box(zs: ZSet, bits: int, step: int, s: Shape, found: list, limit: int) -> None:
    """Append (dist, score, member, lon, lat) of the members of one box inside the
    shape (geoGetPointsInRange), stopping once `limit` points are found (0: no limit)."""
    mn, mx = geohash.box_score_range(bits, step)
    lo, hi = zs.score_bounds(float(mn), False, float(mx), True)
    if lo >= hi:
        return
    decode = geohash.decode_score
    within = geohash.within
    for score, m in zs.items(lo, hi):
        lon, lat = decode(score)
        dist = within(s, lon, lat)
        if dist is not None:
            found.append((dist, score, m, lon, lat))
        if found and limit and len(found) >= limit:
            break


def _search(zs: ZSet, s: Shape, limit: int) -> list:
    """membersOfAllNeighbors: the points of the nine boxes, in Redis's order."""
    _, boxes = geohash.search_boxes(s)
    found: list = []
    last = 0
    for i, box in enumerate(boxes):
        if box is None:
            continue
        # Huge radii can make neighbours coincide: skip a box equal to the last
        # one scanned (Redis never compares with box 0, see last_processed).
        if last and box == boxes[last]:
            continue
        if found and limit and len(found) >= limit:
            break
        _points_in_box(zs, box[0], box[1], s, found, limit)
        last = i
    return found


def _store_getkeys(argv: list[bytes]) -> list[int]:
    """georadiusGetKeys: the source key and the last STORE/STOREDIST key."""
    stored = -1
    i = 5
    n = len(argv)
    while i < n:
        a = argv[i].lower()
        if a in (b"store", b"storedist") and i + 1 < n:
            stored = i + 1
            i += 1
        i += 1
    return [1] if stored == -1 else [1, stored]


def georadius_generic(c, argv: list[bytes], src_index: int, flags: int):
    db = c.db
    zs = db.lookup_read(argv[src_index], ZSet)
    storekey = None
    storedist = False
    s = Shape()
    if flags & _COORDS:
        base = 6
        s.type = CIRCULAR
        s.lon, s.lat = _lonlat(argv[2], argv[3])
        _radius(s, argv[4], argv[5])
    elif flags & _MEMBER:
        base = 5
        if zs is not None:
            s.type = CIRCULAR
            s.lon, s.lat = _member_lonlat(zs, argv[2])
            _radius(s, argv[3], argv[4])
    else:
        base = 2
        if flags & _SEARCHSTORE:
            base = 3
            storekey = argv[1]

    withdist = withhash = withcoord = False
    frommember = fromloc = byradius = bybox = False
    sort = _SORT_NONE
    any_ = False
    count = 0
    n = len(argv)
    search = flags & _SEARCH
    i = base
    while i < n:
        a = argv[i].lower()
        left = n - i - 1  # arguments after this one
        if a == b"withdist":
            withdist = True
        elif a == b"withhash":
            withhash = True
        elif a == b"withcoord":
            withcoord = True
        elif a == b"any":
            any_ = True
        elif a == b"asc":
            sort = _SORT_ASC
        elif a == b"desc":
            sort = _SORT_DESC
        elif a == b"count" and left >= 1:
            count = to_int(argv[i + 1])
            if count <= 0:
                raise CommandError(ERR_COUNT)
            i += 1
        elif a in (b"store", b"storedist") and left >= 1 and not flags & (_NOSTORE | _SEARCH):
            storekey = argv[i + 1]
            storedist = a == b"storedist"
            i += 1
        elif a == b"storedist" and search and flags & _SEARCHSTORE:
            storedist = True
        elif a == b"frommember" and left >= 1 and search and not fromloc:
            if zs is not None:
                s.lon, s.lat = _member_lonlat(zs, argv[i + 1])
            frommember = True
            i += 1
        elif a == b"fromlonlat" and left >= 2 and search and not frommember:
            s.lon, s.lat = _lonlat(argv[i + 1], argv[i + 2])
            fromloc = True
            i += 2
        elif a == b"byradius" and left >= 2 and search and not bybox:
            _radius(s, argv[i + 1], argv[i + 2])
            s.type = CIRCULAR
            byradius = True
            i += 2
        elif a == b"bybox" and left >= 3 and search and not byradius:
            _box(s, argv[i + 1], argv[i + 2], argv[i + 3])
            s.type = RECTANGLE
            bybox = True
            i += 3
        else:
            raise CommandError(errors.SYNTAX)
        i += 1

    if storekey is not None and (withdist or withhash or withcoord):
        what = "GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS"
        raise CommandError(f"ERR {what} is not compatible with WITHDIST, WITHHASH and "
                           "WITHCOORD options")
    if search and not (frommember or fromloc):
        raise CommandError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified "
                           f"for {_name(argv[0])}")
    if search and not (byradius or bybox):
        raise CommandError("ERR exactly one of BYRADIUS and BYBOX can be specified "
                           f"for {_name(argv[0])}")
    if any_ and not count:
        raise CommandError(ERR_ANY_COUNT)

    if zs is None:
        if storekey is not None:
            if db.delete(storekey):
                c.server.notify_keyspace_event("g", "del", storekey, db.id)
            return 0
        return []

    # COUNT without an order returns the closest ones (but ANY takes the first found).
    if count and sort == _SORT_NONE and not any_:
        sort = _SORT_ASC

    found = _search(zs, s, count if any_ else 0)
    if not found and storekey is None:
        return []
    total = len(found)
    returned = total if not count or total < count else count

    if sort != _SORT_NONE:
        desc = sort == _SORT_DESC
        if returned == total:
            found.sort(key=_dist, reverse=desc)  # stable, as glibc's merge sort
        else:
            sign = -1 if desc else 1

            def cmp(a, b) -> int:
                da, db_ = a[0], b[0]
                return sign * ((da > db_) - (da < db_))

            pqsort(found, cmp, 0, returned - 1)

    conv = s.conversion
    if storekey is None:
        resp3 = c.resp3
        out = []
        for dist, score, m, lon, lat in found[:returned]:
            if not (withdist or withhash or withcoord):
                out.append(m)
                continue
            item = [m]
            if withdist:
                item.append(geohash.format_distance(dist / conv))
            if withhash:
                item.append(_score_int(score))
            if withcoord:
                item.append([_coord_raw(lon, resp3), _coord_raw(lat, resp3)])
            out.append(item)
        return out

    if returned:
        scores = {}
        for dist, score, m, _lon, _lat in found[:returned]:
            scores[m] = dist / conv if storedist else score
        cfg = c.server.config
        lp = (len(scores) <= cfg.zset_max_listpack_entries
              and max(map(len, scores)) <= cfg.zset_max_listpack_value)
        db.set(storekey, ZSet.from_scores(scores, lp))
        c.server.dirty += returned - 1
        c.server.notify_keyspace_event(
            "z", "geosearchstore" if search else "georadiusstore", storekey, db.id)
    elif db.delete(storekey):
        c.server.notify_keyspace_event("g", "del", storekey, db.id)
    return returned


def _dist(p) -> float:
    return p[0]


def _score_int(score: float) -> int:
    # addReplyLongLong(c, gp->score): C's double -> long long conversion.
    return geohash.c_llong(score)


def _coord_raw(d: float, resp3: bool):
    """A coordinate reply: a bulk string in RESP2, a double in RESP3."""
    s = geohash.format_coord(d)
    return Raw(b",%s\r\n" % s) if resp3 else s


def _name(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


_RADIUS_ARGS = ("[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count:integer [ANY]] [ASC|DESC] "
                "[STORE key] [STOREDIST key]")
_RADIUS_RO_ARGS = "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count:integer [ANY]] [ASC|DESC]"
_UNIT_ARGS = "M|KM|FT|MI"
_RADIUS_HISTORY = (("6.2.0", "Added the `ANY` option for `COUNT`."),
                   ("7.0.0", "Added support for uppercase unit names."))


@command("georadius", arity=-6, flags="write denyoom", keys=(1, 1, 1), group="geo",
         since="3.2.0", doc_flags="deprecated",
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a point",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box "
                    "of the circular area delimited by center and radius and M is the number "
                    "of items inside the index.",
         args=f"key longitude:double latitude:double radius:double {_UNIT_ARGS} "
              + _RADIUS_ARGS,
         getkeys=_store_getkeys, history=_RADIUS_HISTORY)
def georadius(c, argv):
    return georadius_generic(c, argv, 1, _COORDS)


@command("georadiusbymember", arity=-5, flags="write denyoom", keys=(1, 1, 1), group="geo",
         since="3.2.0", doc_flags="deprecated",
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a member",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box "
                    "of the circular area delimited by center and radius and M is the number "
                    "of items inside the index.",
         args=f"key member radius:double {_UNIT_ARGS} " + _RADIUS_ARGS,
         getkeys=_store_getkeys,
         history=(("7.0.0", "Added support for uppercase unit names."),))
def georadiusbymember(c, argv):
    return georadius_generic(c, argv, 1, _MEMBER)


@command("georadius_ro", arity=-6, flags="readonly", keys=(1, 1, 1), group="geo",
         since="3.2.10", doc_flags="deprecated",
         summary="A read-only variant for GEORADIUS",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box "
                    "of the circular area delimited by center and radius and M is the number "
                    "of items inside the index.",
         args=f"key longitude:double latitude:double radius:double {_UNIT_ARGS} "
              + _RADIUS_RO_ARGS,
         history=(("6.2.0", "Added the `ANY` option for `COUNT`."),))
def georadius_ro(c, argv):
    return georadius_generic(c, argv, 1, _COORDS | _NOSTORE)


@command("georadiusbymember_ro", arity=-5, flags="readonly", keys=(1, 1, 1), group="geo",
         since="3.2.10", doc_flags="deprecated",
         summary="A read-only variant for GEORADIUSBYMEMBER",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box "
                    "of the circular area delimited by center and radius and M is the number "
                    "of items inside the index.",
         args=f"key member radius:double {_UNIT_ARGS} " + _RADIUS_RO_ARGS)
def georadiusbymember_ro(c, argv):
    return georadius_generic(c, argv, 1, _MEMBER | _NOSTORE)


_SEARCH_SHAPE = (f"(FROMMEMBER member|FROMLONLAT longitude:double latitude:double) "
                 f"((BYRADIUS radius:double ({_UNIT_ARGS}))|(BYBOX width:double height:double "
                 f"({_UNIT_ARGS})))")


@command("geosearch", arity=-7, flags="readonly", keys=(1, 1, 1), group="geo",
         since="6.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "inside an area of a box or a circle.",
         complexity="O(N+log(M)) where N is the number of elements in the grid-aligned "
                    "bounding box area around the shape provided as the filter and M is the "
                    "number of items inside the shape",
         args=f"key {_SEARCH_SHAPE} [ASC|DESC] [COUNT count:integer [ANY]] [WITHCOORD] "
              "[WITHDIST] [WITHHASH]",
         history=(("7.0.0", "Added support for uppercase unit names."),))
def geosearch(c, argv):
    return georadius_generic(c, argv, 1, _SEARCH)


@command("geosearchstore", arity=-8, flags="write denyoom", keys=(1, 2, 1), group="geo",
         since="6.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "inside an area of a box or a circle, and store the result in another key.",
         complexity="O(N+log(M)) where N is the number of elements in the grid-aligned "
                    "bounding box area around the shape provided as the filter and M is the "
                    "number of items inside the shape",
         args=f"destination:key source:key {_SEARCH_SHAPE} [ASC|DESC] "
              "[COUNT count:integer [ANY]] [STOREDIST]",
         history=(("7.0.0", "Added support for uppercase unit names."),))
def geosearchstore(c, argv):
    return georadius_generic(c, argv, 2, _SEARCH | _SEARCHSTORE)


# -- GEOHASH / GEOPOS / GEODIST ------------------------------------------------------------

@command("geohash", arity=-2, flags="readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         summary="Returns members of a geospatial index as standard geohash strings",
         complexity="O(log(N)) for each member requested, where N is the number of "
                    "elements in the sorted set.",
         args="key member...")
def geohash_cmd(c, argv):
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return [None] * (len(argv) - 2)
    d = zs.dict
    out = []
    for m in argv[2:]:
        score = d.get(m)
        out.append(None if score is None else geohash.geohash_string(score))
    return out


@command("geopos", arity=-2, flags="readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         summary="Returns longitude and latitude of members of a geospatial index",
         complexity="O(N) where N is the number of members requested.",
         args="key member...")
def geopos(c, argv):
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return [NULL_ARRAY] * (len(argv) - 2)
    d = zs.dict
    resp3 = c.resp3
    out = []
    for m in argv[2:]:
        score = d.get(m)
        if score is None:
            out.append(NULL_ARRAY)
        else:
            lon, lat = geohash.decode_score(score)
            out.append([_coord_raw(lon, resp3), _coord_raw(lat, resp3)])
    return out


@command("geodist", arity=-4, flags="readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         summary="Returns the distance between two members of a geospatial index",
         complexity="O(log(N))",
         args="key member1 member2 [M|KM|FT|MI]")
def geodist(c, argv):
    to_meter = 1.0
    if len(argv) == 5:
        to_meter = _unit(argv[4])
    elif len(argv) > 5:
        raise CommandError(errors.SYNTAX)
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return None
    d = zs.dict
    s1 = d.get(argv[2])
    s2 = d.get(argv[3])
    if s1 is None or s2 is None:
        return None
    lon1, lat1 = geohash.decode_score(s1)
    lon2, lat2 = geohash.decode_score(s2)
    return geohash.format_distance(geohash.distance(lon1, lat1, lon2, lat2) / to_meter)
