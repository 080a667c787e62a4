"""An items request of OGC API – Features, parsed into a typed query and answered by one SQL
statement.

Features are built as GeoJSON text by PostGIS and handed on as text: the page is never parsed
into Python objects and serialised again. Pages are cut by the feature id (keyset paging:
``after`` = the last id of the previous page), so the next page costs an index seek whatever
its depth, and paging through a collection yields each feature once even when an offset would
skip or repeat rows.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.auth.scope import Scope
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg
from layers.features.cql import filter_sql
from layers.features.crs import CRS84, FeatureCrs, parse_bbox, parse_crs
from layers.features.queryables import parameter_filters, queryables
from layers.parameters import WHOLE, one_value
from layers.parameters import parse_limit as parse_limit_in
from layers.sql import DIVISION_FILTERS, SqlLayer

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
#: Parameters of the standard; every other one must name a property filter.
RESERVED = ("f", "limit", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang",
            "filter-crs", "after")


@dataclass(frozen=True)
class ItemsQuery:
    """An items request, checked: bbox in ``bbox_crs`` (x = east order), output ``crs``,
    the id to start after, property values, the datetime interval and the CQL2 filter."""

    limit: int = DEFAULT_LIMIT
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: FeatureCrs = CRS84
    crs: FeatureCrs = CRS84
    after: str | int | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    interval: tuple[dt.datetime | None, dt.datetime | None] | None = None
    filter: str | None = None
    filter_lang: str | None = None
    filter_crs: FeatureCrs = CRS84


def _one(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    return one_value(list(args.get(name, ())), name)


def parse_limit(raw: str | None) -> int:
    """``limit``: 1…10,000, default 100."""
    return parse_limit_in(raw, default=DEFAULT_LIMIT, ceiling=MAX_LIMIT)


def _instant(raw: str, end: bool, zone: dt.tzinfo) -> dt.datetime | None:
    """One end of a datetime interval ('..' or empty: open); a date alone is its whole day in
    ``zone``, as is a date-time without an offset."""
    if raw in ("..", ""):
        return None
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            start = dt.datetime(day.year, day.month, day.day, tzinfo=zone)
            # the next midnight there: aware arithmetic is on the wall clock, so a day of 23
            # or 25 hours ends where it does
            return start + dt.timedelta(days=1) if end else start
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(msg("datetime {raw!r}: expected an RFC 3339 date or date-time, or "
                               "an interval START/END with '..' for an open end", raw=raw)
                           ) from None
    value = value if value.tzinfo else value.replace(tzinfo=zone)
    # an interval's end is inclusive: the SQL compares with < end + 1 µs
    return value + dt.timedelta(microseconds=1) if end else value


def parse_datetime(raw: str | None, timezone: str = "UTC"
                   ) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """``datetime``: an instant, a day, or an interval ``START/END`` (``..`` open), as a
    half-open ``[start, end)`` interval (an instant: ``start == end``, compared exactly).
    A day, and a date-time without an offset, are read in ``timezone`` (the ``timezone``
    setting: the day people of the place mean)."""
    if raw is None:
        return None
    zone = ZoneInfo(timezone)
    if "/" not in raw:
        if len(raw) == 10:
            return _instant(raw, False, zone), _instant(raw, True, zone)
        instant = _instant(raw, False, zone)
        return instant, instant
    start, _, end = raw.partition("/")
    low, high = _instant(start, False, zone), _instant(end, True, zone)
    if low is None and high is None:
        raise InvalidInput(msg("datetime {raw!r}: expected at least one end", raw=raw))
    if low is not None and high is not None and low >= high:
        raise InvalidInput(msg("datetime {raw!r}: expected START ≤ END", raw=raw))
    return low, high


def parse_items_query(session: Session, layer: SqlLayer, args: Mapping[str, Sequence[str]],
                      *, timezone: str = "UTC") -> ItemsQuery:
    """The items query of request parameters ``args`` (name → values); days in
    ``datetime`` are those of ``timezone``.

    Raises
    ------
    InvalidInput
        A malformed or unknown parameter, naming it and what is allowed.
    """
    found = queryables(session, layer)
    allowed = parameter_filters(layer, found)
    properties: dict[str, Any] = {}
    for name in args:
        if name in RESERVED:
            continue
        if name not in allowed:
            raise InvalidInput(msg("parameter {name!r} is not known for collection {layer}; "
                                   "expected one of {items}", name=name, layer=layer.name,
                                   items=", ".join([*RESERVED, *sorted(allowed)])))
        properties[name] = allowed[name].value(_one(args, name) or "", name)
    bbox_crs = parse_crs(_one(args, "bbox-crs"), "bbox-crs")
    interval = parse_datetime(_one(args, "datetime"), timezone)
    if interval is not None and not layer.definition.get("datetime"):
        raise InvalidInput(msg("datetime: collection {layer} has no time; dated collections "
                               "are those whose description lists a temporal extent",
                               layer=layer.name))
    after = _one(args, "after")
    if after is not None and layer.id_type == "integer":
        if not WHOLE.fullmatch(after):
            raise InvalidInput(msg("after {raw!r}: expected the id of the last feature of the "
                                   "previous page (a whole number)", raw=after))
        after = int(after)
    return ItemsQuery(limit=parse_limit(_one(args, "limit")),
                      bbox=parse_bbox(_one(args, "bbox"), bbox_crs), bbox_crs=bbox_crs,
                      crs=parse_crs(_one(args, "crs"), "crs"), after=after,
                      properties=properties, interval=interval,
                      filter=_one(args, "filter"), filter_lang=_one(args, "filter-lang"),
                      filter_crs=parse_crs(_one(args, "filter-crs"), "filter-crs"))


def geometry_text_sql(layer: SqlLayer, crs: FeatureCrs) -> str:
    """The GeoJSON geometry (text) of the layer's features (stored in EPSG:4490) in ``crs``'s
    axis order (the stored GeoJSON when the layer keeps it and ``crs`` is CRS84)."""
    return layer.geojson_text_sql(srid=None if crs.geographic else crs.srid, flip=crs.flip,
                                  decimals=crs.decimals)


def _envelope(query: ItemsQuery) -> str:
    box = "ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, {srid})"
    if query.bbox_crs.geographic:
        return box.format(srid=4490)
    # a projected rectangle is curved in lon/lat: its edges densified before transforming
    return (f"ST_Transform(ST_Segmentize({box.format(srid=query.bbox_crs.srid)}, "
            f"greatest(:bx1 - :bx0, :by1 - :by0) / 64 + 1e-6), 4490)")


#: How far (degrees) the inner box of :func:`_bbox_condition` lies inside the bbox: more than
#: the widest step of a single-precision float below 256 (2⁻¹⁶ ≈ 1.5e-5°), which is how far
#: PostGIS's cached float boxes may reach beyond the doubles they round.
INNER_MARGIN = 1e-4


def _bbox_condition(column: str, query: ItemsQuery) -> tuple[str, dict[str, Any]]:
    """The rows of ``column`` intersecting the bbox, exactly, and cheaply for most of them.

    A feature whose cached box lies inside the bbox shrunk by :data:`INNER_MARGIN` lies
    inside the bbox itself (its true box is within its float box, and that float box within
    the inner box's, which reaches at most one float step beyond the inner box), so it
    intersects: only the features near an edge need the exact ``ST_Intersects``, which costs
    a GEOS conversion each. In a projected bbox-crs the bbox is not a lon/lat rectangle: the
    exact test alone."""
    params = dict(zip(("bx0", "by0", "bx1", "by1"), query.bbox))
    envelope = _envelope(query)
    x0, y0, x1, y1 = query.bbox
    if not query.bbox_crs.geographic or min(x1 - x0, y1 - y0) <= 2 * INNER_MARGIN:
        return f"ST_Intersects({column}, {envelope})", params
    params.update(ix0=x0 + INNER_MARGIN, iy0=y0 + INNER_MARGIN, ix1=x1 - INNER_MARGIN,
                  iy1=y1 - INNER_MARGIN)
    # the index finds the candidates by && alone; CASE keeps the planner from also using
    # ST_Intersects's own index condition (a second scan of the same index)
    return (f"{column} && {envelope} and case when {column} @ "
            f"ST_MakeEnvelope(:ix0, :iy0, :ix1, :iy1, 4490) then true "
            f"else ST_Intersects({column}, {envelope}) end"), params


class _Conditions:
    """The WHERE clause being built and its parameters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.parts.append(sql)
        self.params.update(params or {})


def _conditions(session: Session, layer: SqlLayer, query: ItemsQuery,
                scope: Scope) -> _Conditions:
    where = _Conditions()
    where.add(*layer.scoped_condition(scope))
    found = queryables(session, layer)
    allowed = parameter_filters(layer, found)
    for i, (name, value) in enumerate(sorted(query.properties.items())):
        if name in DIVISION_FILTERS and name in layer.filters \
                and not scope.sees_division(str(value)):
            raise Forbidden(msg("{key} {value} lies outside what {actor} may see", key=name,
                                value=value, actor=scope.actor))
        where.add(f"({allowed[name].sql}) = :prop{i}", {f"prop{i}": value})
    column = f"t.{layer.geometry}"
    if query.bbox is not None:
        where.add(*_bbox_condition(column, query))
    if query.interval is not None:
        when = found[layer.definition["datetime"]].sql
        low, high = query.interval
        if low is not None and low == high:
            where.add(f"({when}) = :dt_at", {"dt_at": low})
        else:
            if low is not None:
                where.add(f"({when}) >= :dt_low", {"dt_low": low})
            if high is not None:
                where.add(f"({when}) < :dt_high", {"dt_high": high})
    if query.filter is not None:
        where.add(*filter_sql(query.filter, query.filter_lang, found, geometry_sql=column,
                              filter_crs=query.filter_crs))
    if query.after is not None:
        where.add(f"t.{layer.id_column} > :after", {"after": query.after})
    return where


#: Queryable types whose SQL text is their JSON text.
_BARE_TYPES = ("integer", "boolean")


def _feature_sql(session: Session, layer: SqlLayer, crs: FeatureCrs,
                 scope: Scope) -> tuple[str, dict]:
    """SQL over alias ``t`` for a feature as GeoJSON text, assembled as text: the stored or
    computed geometry text is not parsed again (a ``json`` value would be), and the result
    parses to what ``json_build_object`` would give (``tests/ogcapi/test_feature_text.py``)."""
    bare = frozenset(name for name, q in queryables(session, layer).items()
                     if q.type in _BARE_TYPES)
    properties, params = layer.properties_text_sql(scope, bare)
    geometry = f"coalesce({geometry_text_sql(layer, crs)}, 'null')"
    return (f"""'{{"type":"Feature","id":' || to_json(t.{layer.id_column})::text || """
            f"""',"geometry":' || {geometry} || ',"properties":' || {properties} """
            f"""|| '}}'"""), params


def _select(session: Session, layer: SqlLayer, crs: FeatureCrs, scope: Scope,
            condition: str) -> tuple[str, dict]:
    feature_sql, params = _feature_sql(session, layer, crs, scope)
    return (f"select t.{layer.id_column} as id, {feature_sql} as feature "
            f"from {layer.table} t where {condition} order by t.{layer.id_column}"), params


def _page_sql(select: str) -> str:
    """The page of ``select`` (features in id order, ``:page_limit`` = the page's size + 1) as
    one row: the features joined by commas, how many there are on the page, and the id of
    the last when another page follows. One value crosses to Python, not a row per feature."""
    return (f"select coalesce(string_agg(p.feature, ',' order by p.n) "
            f"filter (where p.n < :page_limit), '') as body, "
            f"count(*) filter (where p.n < :page_limit) as returned, "
            f"bool_or(p.n = :page_limit) as more, "
            f"max(p.id) filter (where p.n < :page_limit) as last_id "
            f"from (select s.*, row_number() over (order by s.id) as n "
            f"from ({select} limit :page_limit) s) p")


@dataclass(frozen=True)
class ItemsPage:
    """One page: its features as GeoJSON texts joined by commas (a JSON array's inside), how
    many, and the ``after`` of the next page (None on the last)."""

    body: str
    returned: int
    next_after: str | None

    def features(self) -> list[Any]:
        """The features parsed (the HTML page shows them)."""
        return json.loads(f"[{self.body}]")


def _local_times(session: Session, timezone: str) -> None:
    """Times in the features are written in ``timezone`` (IANA), with its offset, for the
    rest of the transaction: the same instants, but a client that drops the offset and shows
    the clock time as given (QGIS 3.22 does) shows the time of the place the data is about.
    A page is small work for one process: parallel workers for each of many concurrent pages
    cost more to start than they save (measured by bench/ogcapi_items.py), so none, set in
    the same round trip."""
    session.execute(text("select set_config('TimeZone', :tz, true), "
                         "set_config('max_parallel_workers_per_gather', '0', true)"),
                    {"tz": timezone})


def items(session: Session, layer: SqlLayer, query: ItemsQuery, *, scope: Scope,
          timezone: str = "UTC") -> ItemsPage:
    """The page of ``layer``'s features that ``query`` selects within ``scope``, times
    written in ``timezone``."""
    where = _conditions(session, layer, query, scope)
    sql, params = _select(session, layer, query.crs, scope, " and ".join(where.parts))
    _local_times(session, timezone)
    row = session.execute(text(_page_sql(sql)),
                          {**where.params, **params, "page_limit": query.limit + 1}).one()
    return ItemsPage(row.body, row.returned, str(row.last_id) if row.more else None)


def feature(session: Session, layer: SqlLayer, feature_id: str, crs: FeatureCrs, *,
            scope: Scope, timezone: str = "UTC") -> str:
    """One feature as GeoJSON text, times written in ``timezone``; NotFound or Forbidden as
    :meth:`SqlLayer.get` says."""
    condition, params = layer.scoped_condition(scope)
    _local_times(session, timezone)
    value: Any = feature_id
    if layer.id_type == "integer":
        value = int(feature_id) if WHOLE.fullmatch(feature_id) else None
    if value is not None:
        sql, field_params = _select(session, layer, crs, scope,
                                    f"{condition} and t.{layer.id_column} = :feature_id")
        row = session.execute(text(sql), {**params, **field_params,
                                          "feature_id": value}).first()
        if row is not None:
            return row.feature
    layer.get(session, feature_id, scope=scope)  # raises NotFound or Forbidden
    raise NotFound(msg("layer {name} has no feature {feature_id!r}", name=layer.name,
                       feature_id=feature_id))


def extent(session: Session, layer: SqlLayer) -> dict[str, Any]:
    """The collection's spatial extent (CRS84 bbox) and, for a dated one, temporal extent."""
    when = layer.definition.get("datetime")
    found = queryables(session, layer)
    temporal = (f", min({found[when].sql}), max({found[when].sql})" if when
                else ", null, null")
    g = f"ST_Extent(t.{layer.geometry})"
    row = session.execute(text(
        f"select ST_XMin({g}), ST_YMin({g}), ST_XMax({g}), ST_YMax({g}){temporal} "
        f"from {layer.table} t where {layer.where}")).one()
    out: dict[str, Any] = {"spatial": {"bbox": [list(row[:4]) if row[0] is not None
                                                else [-180, -90, 180, 90]],
                                       "crs": CRS84.uri}}
    if when:
        out["temporal"] = {"interval": [[_iso(row[4]), _iso(row[5])]],
                           "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def district_zones(session: Session) -> list[int]:
    """The Gauss–Krüger zones (EPSG codes) of the districts loaded."""
    return list(session.execute(text("select distinct projected_epsg from district "
                                      "order by 1")).scalars())
