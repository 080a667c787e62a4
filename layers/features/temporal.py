"""CQL2 temporal functions (OGC 21-065, conformance class ``temporal-functions``) as SQL.

Every operand is a period with a start and an end: an instant (``TIMESTAMP('…')``,
``DATE('…')``, a dated property) is the period whose ends are equal, an ``INTERVAL(a, b)`` the
period from ``a`` to ``b``, where ``'..'`` is an open end (−∞ at the start, +∞ at the end) and a
property may stand for either end. The fifteen functions are the standard's comparisons of the
ends (a and b the first and second operand)::

    T_AFTER        a.start > b.end          T_MEETS        a.end = b.start
    T_BEFORE       a.end < b.start          T_METBY        a.start = b.end
    T_CONTAINS     a.start < b.start and a.end > b.end
    T_DURING       a.start > b.start and a.end < b.end
    T_EQUALS       a.start = b.start and a.end = b.end
    T_FINISHEDBY   a.start < b.start and a.end = b.end
    T_FINISHES     a.start > b.start and a.end = b.end
    T_STARTEDBY    a.start = b.start and a.end > b.end
    T_STARTS       a.start = b.start and a.end < b.end
    T_OVERLAPS     a.start < b.start and a.end > b.start and a.end < b.end
    T_OVERLAPPEDBY a.start > b.start and a.start < b.end and a.end > b.end
    T_INTERSECTS   a.start <= b.end and a.end >= b.start
    T_DISJOINT     a.start > b.end or a.end < b.start   (NOT T_INTERSECTS)

They are read into pygeofilter's own nodes (its names are the draft's: T_STARTS is
``TimeBegins``, T_FINISHES ``TimeEnds``…; it has no T_INTERSECTS node, so that is
``Not(TimeDisjoint)``, which the standard defines it as). The SQL compares the operands' SQL:
property names become the queryable's own SQL, instants bound parameters, open ends the
constants ``'-infinity'``/``'infinity'`` of the operands' type. A function compares dates with
dates or timestamps with timestamps: mixing them (whose answer would hang on a time zone) is a
400, as is a property that is not dated. A property that is NULL in a row makes the function
unknown there: the row is in neither the function's answer nor its negation's.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

from pygeofilter import ast, values

from gridmap.errors import InvalidInput
from gridmap.i18n import msg

#: The standard's function names → a builder of pygeofilter's node for it.
FUNCTIONS: dict[str, Callable[[Any, Any], ast.Node]] = {
    "T_AFTER": ast.TimeAfter, "T_BEFORE": ast.TimeBefore, "T_CONTAINS": ast.TimeContains,
    "T_DISJOINT": ast.TimeDisjoint, "T_DURING": ast.TimeDuring, "T_EQUALS": ast.TimeEquals,
    "T_FINISHEDBY": ast.TimeEndedBy, "T_FINISHES": ast.TimeEnds,
    "T_INTERSECTS": lambda a, b: ast.Not(ast.TimeDisjoint(a, b)),
    "T_MEETS": ast.TimeMeets, "T_METBY": ast.TimeMetBy,
    "T_OVERLAPPEDBY": ast.TimeOverlappedBy, "T_OVERLAPS": ast.TimeOverlaps,
    "T_STARTEDBY": ast.TimeBegunBy, "T_STARTS": ast.TimeBegins,
}
#: pygeofilter's node → the comparison of the ends (a0, a1: first operand; b0, b1: second).
_RELATIONS: dict[type, str] = {
    ast.TimeAfter: "{a0} > {b1}",
    ast.TimeBefore: "{a1} < {b0}",
    ast.TimeContains: "{a0} < {b0} and {a1} > {b1}",
    ast.TimeDisjoint: "{a0} > {b1} or {a1} < {b0}",
    ast.TimeDuring: "{a0} > {b0} and {a1} < {b1}",
    ast.TimeEquals: "{a0} = {b0} and {a1} = {b1}",
    ast.TimeEndedBy: "{a0} < {b0} and {a1} = {b1}",
    ast.TimeEnds: "{a0} > {b0} and {a1} = {b1}",
    ast.TimeMeets: "{a1} = {b0}",
    ast.TimeMetBy: "{a0} = {b1}",
    ast.TimeOverlappedBy: "{a0} > {b0} and {a0} < {b1} and {a1} > {b1}",
    ast.TimeOverlaps: "{a0} < {b0} and {a1} > {b0} and {a1} < {b1}",
    ast.TimeBegunBy: "{a0} = {b0} and {a1} > {b1}",
    ast.TimeBegins: "{a0} = {b0} and {a1} < {b1}",
}
_SQL_TYPES = {"date": "date", "date-time": "timestamptz"}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
                        r"(Z|[+-][0-9]{2}:[0-9]{2})")
OPEN = ".."


def function(name: str, args: list[Any]) -> ast.Node:
    """pygeofilter's node for the CQL2 temporal function ``name`` (one of :data:`FUNCTIONS`,
    in any case) of ``args``.

    Raises
    ------
    InvalidInput
        Not two arguments.
    """
    builder = FUNCTIONS[name.upper()]
    if len(args) != 2:
        raise InvalidInput(msg("filter: {name} takes 2 arguments; got {count}",
                               name=name.upper(), count=len(args)))
    return builder(*args)


def instant(text: Any, kind: str) -> dt.date:
    """``text`` as the instant it names: a ``date`` (YYYY-MM-DD) or a ``date-time``
    (YYYY-MM-DDThh:mm:ss[.ffffff] with Z or an offset, as UTC).

    Raises
    ------
    InvalidInput
        When ``text`` is not one, naming ``filter``.
    """
    pattern = _DATE if kind == "date" else _TIMESTAMP
    if isinstance(text, str) and pattern.fullmatch(text):
        try:
            if kind == "date":
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(
                dt.timezone.utc)
        except ValueError:
            pass
    raise InvalidInput(msg("filter: {value!r} is not a {kind}; expected {form}",
                           value=text, kind="DATE" if kind == "date" else "TIMESTAMP",
                           form="YYYY-MM-DD" if kind == "date" else "YYYY-MM-DDThh:mm:ssZ"))


def interval(start: Any, end: Any) -> values.Interval:
    """``INTERVAL(start, end)``: each end a date or timestamp (as text or value), ``'..'``
    (open, kept as None) or a property; pygeofilter's :class:`~pygeofilter.values.Interval`."""
    start, end = (_interval_end(v) for v in (start, end))
    if isinstance(start, dt.date) and type(start) is type(end) and start > end:
        raise InvalidInput(msg("filter: INTERVAL('{start}', '{end}') ends before it starts",
                               start=start.isoformat(), end=end.isoformat()))
    return values.Interval(start, end)


def _interval_end(value: Any) -> Any:
    if value == OPEN:
        return None
    if isinstance(value, str):
        return instant(value, "date" if _DATE.fullmatch(value) else "date-time")
    if isinstance(value, (dt.date, ast.Attribute)):
        return value
    raise InvalidInput(msg("filter: an INTERVAL end is a date, a timestamp, '..' or a "
                           "property; got {what}", what=name_of(value)))


def is_temporal(node: Any) -> bool:
    """Whether ``node`` is one of the temporal functions :func:`temporal_sql` writes."""
    return type(node) in _RELATIONS


def temporal_sql(node: Any, property_sql: Callable[[Any], tuple[Any, str]],
                 bind: Callable[[Any], str]) -> str:
    """The SQL of the temporal function ``node``: ``property_sql(attribute)`` gives a
    property's queryable and SQL, ``bind(value)`` a parameter's placeholder."""
    ends = [*_ends(node.lhs, property_sql), *_ends(node.rhs, property_sql)]
    kinds = {kind for _, kind in ends if kind}
    if len(kinds) > 1:
        raise InvalidInput(msg("filter: a temporal function compares dates with timestamps; "
                               "write both as DATE('YYYY-MM-DD') or both as TIMESTAMP('…Z')"))
    kind = kinds.pop() if kinds else "date-time"
    infinity = ("'-infinity'::{type}", "'infinity'::{type}")
    sql: list[str] = []
    placeholders: dict[int, str] = {}
    for i, (value, _) in enumerate(ends):
        if value is None:
            sql.append(infinity[i % 2].format(type=_SQL_TYPES[kind]))
        elif isinstance(value, dt.date):  # an instant is bound once for both its ends
            sql.append(placeholders.setdefault(id(value), bind(value)))
        else:
            sql.append(value)
    a0, a1, b0, b1 = sql
    return "(" + _RELATIONS[type(node)].format(a0=a0, a1=a1, b0=b0, b1=b1) + ")"


def _ends(operand: Any, property_sql: Callable[[Any], tuple[Any, str]]) -> list[tuple]:
    """The start and end of ``operand``, each as (SQL of a property, a value or None for
    open; its kind)."""
    if isinstance(operand, values.Interval):
        return [_end(v, property_sql) for v in (operand.start, operand.end)]
    if operand is None:
        raise _not_an_operand(operand)
    return [_end(operand, property_sql)] * 2


def _end(value: Any, property_sql: Callable[[Any], tuple[Any, str]]) -> tuple:
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        return value, "date-time"
    if isinstance(value, dt.date):
        return value, "date"
    if isinstance(value, ast.Attribute):
        prop, sql = property_sql(value)
        if prop.format not in _SQL_TYPES:
            raise InvalidInput(msg("filter: a temporal function compares dates and "
                                   "timestamps; {name} is {kind}", name=prop.name,
                                   kind=prop.describe()))
        return sql, prop.format
    raise _not_an_operand(value)


def _not_an_operand(value: Any) -> InvalidInput:
    return InvalidInput(msg("filter: a temporal function compares instants (TIMESTAMP, DATE, "
                            "a dated property) and INTERVALs; got {what}",
                            what=name_of(value)))


def name_of(node: Any) -> str:
    """``node`` in a message: a property, a function, a node's kind or a literal."""
    if isinstance(node, ast.Attribute):
        return f"property {node.name}"
    if isinstance(node, ast.Function):
        return f"function {node.name.upper()}"
    if isinstance(node, ast.Node):
        return type(node).__name__
    return repr(shown(node))


def shown(value: Any) -> Any:
    """``value`` as a message shows it: a date or time in ISO 8601."""
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
