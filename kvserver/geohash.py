"""Geohash arithmetic as Redis 7.0 does it (geohash.c, geohash_helper.c).

A geo member is a sorted set member whose score is a 52-bit geohash: the
longitude and latitude, each scaled to 26 bits over Redis's ranges
(-180..180, -85.05112878..85.05112878), interleaved with the latitude in
the even bits. Every step below repeats Redis's double arithmetic operation
for operation (Python floats are the same IEEE doubles and math.sin & co.
call the same libm), so scores, decoded coordinates and distances come out
bit-identical to Redis's.

A radius or box search covers the search area with the geohash box that
contains the centre, at a precision chosen from the radius, plus its eight
neighbours; each box is one contiguous score range of the sorted set, so a
search costs nine range look-ups plus the members inside those boxes.
"""

from __future__ import annotations

import math
import struct

LAT_MIN = -85.05112878
LAT_MAX = 85.05112878
LONG_MIN = -180.0
LONG_MAX = 180.0
STEP_MAX = 26

_D_R = math.pi / 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
_MERCATOR_MAX = 20037726.37

CIRCULAR = 1
RECTANGLE = 2

_M64 = 0xFFFFFFFFFFFFFFFF
_NAN = math.nan


# -- libm without Python's domain errors (C returns NaN, Python raises) -------------------

def _sin(x: float) -> float:
    return math.sin(x) if x - x == 0 else _NAN


def _cos(x: float) -> float:
    return math.cos(x) if x - x == 0 else _NAN


def _asin(x: float) -> float:
    return math.asin(x) if -1.0 <= x <= 1.0 else _NAN


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else _NAN


# -- bit interleaving ----------------------------------------------------------------------

def _spread_byte(b: int) -> int:
    out = 0
    for i in range(8):
        if b >> i & 1:
            out |= 1 << (2 * i)
    return out


_SPREAD = [_spread_byte(b) for b in range(256)]


def interleave64(xlo: int, ylo: int) -> int:
    """The bits of xlo in the even positions, those of ylo in the odd ones."""
    s = _SPREAD
    x = s[xlo & 255] | s[xlo >> 8 & 255] << 16 | s[xlo >> 16 & 255] << 32 | s[xlo >> 24 & 255] << 48
    y = s[ylo & 255] | s[ylo >> 8 & 255] << 16 | s[ylo >> 16 & 255] << 32 | s[ylo >> 24 & 255] << 48
    return x | y << 1


def _compact(x: int) -> int:
    """The even bits of a 64-bit x, packed into 32 bits."""
    x &= 0x5555555555555555
    x = (x | x >> 1) & 0x3333333333333333
    x = (x | x >> 2) & 0x0F0F0F0F0F0F0F0F
    x = (x | x >> 4) & 0x00FF00FF00FF00FF
    x = (x | x >> 8) & 0x0000FFFF0000FFFF
    return (x | x >> 16) & 0x00000000FFFFFFFF


def deinterleave64(bits: int) -> tuple[int, int]:
    """(even bits, odd bits) of a 64-bit hash: (latitude part, longitude part)."""
    return _compact(bits), _compact(bits >> 1)


# -- encode / decode -----------------------------------------------------------------------

def _u32(d: float) -> int:
    # A C (uint32_t) cast of a non-negative double: truncation.
    return int(d) & 0xFFFFFFFF


def encode(longitude: float, latitude: float, step: int,
           long_min: float = LONG_MIN, long_max: float = LONG_MAX,
           lat_min: float = LAT_MIN, lat_max: float = LAT_MAX) -> int | None:
    """geohashEncode: the step*2-bit hash of a point, None outside the ranges."""
    if longitude > LONG_MAX or longitude < LONG_MIN or latitude > LAT_MAX or latitude < LAT_MIN:
        return None
    if latitude < lat_min or latitude > lat_max or longitude < long_min or longitude > long_max:
        return None
    lat_offset = (latitude - lat_min) / (lat_max - lat_min)
    long_offset = (longitude - long_min) / (long_max - long_min)
    scale = float(1 << step)
    return interleave64(_u32(lat_offset * scale), _u32(long_offset * scale))


def score_of(longitude: float, latitude: float) -> int:
    """The 52-bit score GEOADD gives a valid point."""
    return encode(longitude, latitude, STEP_MAX)


_LAT_SCALE = LAT_MAX - LAT_MIN
_LONG_SCALE = LONG_MAX - LONG_MIN


def decode_area(bits: int, step: int) -> tuple[float, float, float, float]:
    """geohashDecode over Redis's ranges: (long min, long max, lat min, lat max)."""
    ilato, ilono = deinterleave64(bits)
    div = float(1 << step)
    return (LONG_MIN + (ilono * 1.0 / div) * _LONG_SCALE,
            LONG_MIN + (((ilono + 1) & 0xFFFFFFFF) * 1.0 / div) * _LONG_SCALE,
            LAT_MIN + (ilato * 1.0 / div) * _LAT_SCALE,
            LAT_MIN + (((ilato + 1) & 0xFFFFFFFF) * 1.0 / div) * _LAT_SCALE)


_pack_d = struct.Struct("<d").pack


def score_to_bits(score: float) -> int:
    """C's (uint64_t) cast of a double as x86-64 code computes it (Redis
    decodes any score of a geo key, valid geohash or not)."""
    if score < 9223372036854775808.0:
        return c_llong(score) & _M64
    return (c_llong(score - 9223372036854775808.0) ^ 0x8000000000000000) & _M64


def c_llong(d: float) -> int:
    """C's (long long) cast on x86-64: truncation; NaN and out-of-range values
    give the "integer indefinite" LLONG_MIN."""
    if d != d or not (-9223372036854775808.0 <= d < 9223372036854775808.0):
        return -0x8000000000000000
    return int(d)


def decode_score(score: float) -> tuple[float, float]:
    """(longitude, latitude) of a geo member's score (decodeGeohash)."""
    lo_min, lo_max, la_min, la_max = decode_area(score_to_bits(score), STEP_MAX)
    lon = (lo_min + lo_max) / 2
    if lon > LONG_MAX:
        lon = LONG_MAX
    if lon < LONG_MIN:
        lon = LONG_MIN
    lat = (la_min + la_max) / 2
    if lat > LAT_MAX:
        lat = LAT_MAX
    if lat < LAT_MIN:
        lat = LAT_MIN
    return lon, lat


_GEOALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11-character standard geohash (re-encoded over -90..90)."""
    lon, lat = decode_score(score)
    bits = encode(lon, lat, 26, -180.0, 180.0, -90.0, 90.0) or 0
    out = bytearray(11)
    for i in range(10):
        out[i] = _GEOALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F]
    out[10] = _GEOALPHABET[0]
    return bytes(out)


# -- neighbours ------------------------------------------------------------------------------

def _move_x(bits: int, step: int, d: int) -> int:
    if d == 0:
        return bits
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0x5555555555555555 >> (64 - step * 2)
    if d > 0:
        x = (x + (zz + 1)) & _M64
    else:
        x = ((x | zz) - (zz + 1)) & _M64
    x &= 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    return x | y


def _move_y(bits: int, step: int, d: int) -> int:
    if d == 0:
        return bits
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    if d > 0:
        y = (y + (zz + 1)) & _M64
    else:
        y = ((y | zz) - (zz + 1)) & _M64
    y &= 0x5555555555555555 >> (64 - step * 2)
    return x | y


# Redis's search order: the centre box, then N, S, E, W, NE, NW, SE, SW.
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def neighbors(bits: int, step: int) -> list[int]:
    """The eight neighbouring boxes, in the order N, S, E, W, NE, NW, SE, SW."""
    return [_move_y(_move_x(bits, step, dx), step, dy) for dx, dy in _DIRECTIONS]


# -- search areas ------------------------------------------------------------------------------

class Shape:
    """A search area: a circle (radius) or an axis-aligned box (width, height),
    both in `conversion` units (meters per unit) around (lon, lat)."""

    __slots__ = ("type", "lon", "lat", "conversion", "radius", "width", "height", "bounds")

    def __init__(self) -> None:
        self.type = 0
        self.lon = self.lat = 0.0
        self.conversion = 0.0
        self.radius = self.width = self.height = 0.0
        self.bounds = (0.0, 0.0, 0.0, 0.0)


def estimate_steps_by_radius(range_meters: float, lat: float) -> int:
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < _MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), 26)


def bounding_box(s: Shape) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the area (geohashBoundingBox)."""
    circ = s.type == CIRCULAR
    height = s.conversion * (s.radius if circ else s.height / 2)
    width = s.conversion * (s.radius if circ else s.width / 2)
    lat_delta = (height / EARTH_RADIUS_IN_METERS) / _D_R
    long_delta_top = (width / EARTH_RADIUS_IN_METERS / _cos((s.lat + lat_delta) * _D_R)) / _D_R
    long_delta_bottom = (width / EARTH_RADIUS_IN_METERS
                         / _cos((s.lat - lat_delta) * _D_R)) / _D_R
    delta = long_delta_bottom if s.lat < 0 else long_delta_top
    return s.lon - delta, s.lat - lat_delta, s.lon + delta, s.lat + lat_delta


def search_boxes(s: Shape) -> tuple[int, list[tuple[int, int] | None]]:
    """geohashCalculateAreasByShapeWGS84: the step and the nine boxes to scan
    as (bits, step), in Redis's order; None for a neighbour excluded as useless."""
    min_lon, min_lat, max_lon, max_lat = s.bounds = bounding_box(s)
    if s.type == CIRCULAR:
        radius_meters = s.radius
    else:
        radius_meters = _sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2))
    radius_meters *= s.conversion
    steps = estimate_steps_by_radius(radius_meters, s.lat)
    h = encode(s.lon, s.lat, steps)
    nb = neighbors(h, steps)
    # Is the step small enough at the edges of the covered area?
    north = decode_area(nb[0], steps)
    south = decode_area(nb[1], steps)
    east = decode_area(nb[2], steps)
    west = decode_area(nb[3], steps)
    decrease = (north[3] < max_lat or south[2] > min_lat
                or east[1] < max_lon or west[0] > min_lon)
    if steps > 1 and decrease:
        steps -= 1
        h = encode(s.lon, s.lat, steps)
        nb = neighbors(h, steps)
    area = decode_area(h, steps)
    boxes: list[tuple[int, int] | None] = [(h, steps)] + [(b, steps) for b in nb]
    if steps >= 2:
        # Drop the neighbours on the side of a bound the centre box already passes.
        if area[2] < min_lat:
            boxes[2] = boxes[7] = boxes[8] = None  # S, SE, SW
        if area[3] > max_lat:
            boxes[1] = boxes[5] = boxes[6] = None  # N, NE, NW
        if area[0] < min_lon:
            boxes[4] = boxes[8] = boxes[6] = None  # W, SW, NW
        if area[1] > max_lon:
            boxes[3] = boxes[7] = boxes[5] = None  # E, SE, NE
    return steps, boxes


def box_score_range(bits: int, step: int) -> tuple[int, int]:
    """Scores [min, max) of the members inside a box (scoresOfGeoHashBox)."""
    shift = 52 - step * 2
    return (bits << shift) & _M64, ((bits + 1) << shift) & _M64


# -- distances ---------------------------------------------------------------------------------

def lat_distance(lat1d: float, lat2d: float) -> float:
    return EARTH_RADIUS_IN_METERS * abs(lat2d * _D_R - lat1d * _D_R)


def distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """Haversine distance in meters (geohashGetDistance)."""
    lon1r = lon1d * _D_R
    lon2r = lon2d * _D_R
    v = _sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1d, lat2d)
    lat1r = lat1d * _D_R
    lat2r = lat2d * _D_R
    u = _sin((lat2r - lat1r) / 2)
    a = u * u + _cos(lat1r) * _cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * _asin(_sqrt(a))


def within(s: Shape, lon: float, lat: float) -> float | None:
    """The distance of (lon, lat) from the centre if inside the shape, else None."""
    if s.type == CIRCULAR:
        d = distance(s.lon, s.lat, lon, lat)
        return None if d > s.radius * s.conversion else d
    # Latitude distance is cheaper: check it first, as Redis does.
    if lat_distance(lat, s.lat) > s.height * s.conversion / 2:
        return None
    if distance(lon, lat, s.lon, lat) > s.width * s.conversion / 2:
        return None
    return distance(s.lon, s.lat, lon, lat)


def format_distance(d: float) -> bytes:
    """A distance with 4 decimals, as fixedpoint_d2string(d, 4) writes it."""
    if d == 0:
        return b"0.0000"
    x = d * 10000.0
    if x != x or not (-9223372036854775808.0 <= x < 9223372036854775808.0):
        v = -(1 << 63)  # llrint's result for what it cannot represent
    else:
        v = round(x)  # llrint: to nearest, ties to even
    sign = b"-" if v < 0 else b""
    q, r = divmod(abs(v), 10000)
    return b"%s%d.%04d" % (sign, q, r)


def format_coord(d: float) -> bytes:
    """A coordinate as addReplyHumanLongDouble writes it: %.17Lf, trailing
    zeros (and a trailing dot) removed, "-0" as "0"."""
    if d in (math.inf, -math.inf):
        return b"inf" if d > 0 else b"-inf"
    s = b"%.17f" % d
    if b"." in s:
        s = s.rstrip(b"0")
        if s.endswith(b"."):
            s = s[:-1]
    if s == b"-0":
        s = b"0"
    return s
