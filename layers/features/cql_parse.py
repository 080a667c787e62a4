"""CQL2 text and JSON read into pygeofilter's AST, where pygeofilter 0.4 falls short of the
standard.

Text: pygeofilter's own Lark grammar (``cql2_text/grammar.lark``) with a few rules overridden,
read by a subclass of its transformer:

- the temporal functions in the standard's function form ``T_AFTER(a, b)`` (pygeofilter reads
  only an infix ``a T_AFTER b`` of a draft), any of the fifteen names, in any case;
- ``TIMESTAMP('…')``, ``DATE('…')`` and ``INTERVAL(a, b)`` whose ends are quoted dates or
  timestamps, ``'..'`` or properties (pygeofilter's takes two timestamps only);
- a text literal may hold a quote written twice (``'O''Brien'`` is O'Brien);
- a property name of one character, one starting with ``_`` or ``:``, or one in double quotes
  (``"name"``), as the standard's ``propertyName`` allows (pygeofilter's needs two characters);
- the keywords ``TIMESTAMP``, ``DATE`` and ``INTERVAL`` in any case, as every other keyword;
- line breaks and tabs between tokens (pygeofilter skips spaces and tabs only).

JSON: pygeofilter's walker, given ``timestamp``, ``date``, ``interval`` and the ``t_*``
operators already read (it reads the draft's names and takes T_INTERSECTS for T_OVERLAPS), a
``bbox`` as a polygon and BETWEEN in the draft's form. The walker passes a node it is given
through as it is.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.resources
import json
import logging
import os
from typing import Any, Iterator

from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from layers.features import temporal

LANGUAGES = ("cql2-text", "cql2-json")
#: GDAL 3.6's OAPIF driver asks for the draft's name; its simple comparisons are CQL2 text.
ALIASES = {"cql-text": "cql2-text"}
_MAX_LENGTH = 20_000
#: What gridmap changes in pygeofilter's grammar. TEMPORAL_FUNCTION outranks the property
#: name it would otherwise also be read as (``T_AFTERNOON`` stays a property).
_GRAMMAR = r"""
%override SINGLE_QUOTED: /'(?:[^']|'')*'/
%override ?temporal_predicate: TEMPORAL_FUNCTION "(" expression ("," expression)* ")" -> temporal_function
TEMPORAL_FUNCTION.3: /(?i:NAMES)(?![A-Za-z0-9_:.])/
%override ?timestamp: "TIMESTAMP"i "(" SINGLE_QUOTED ")" -> timestamp_literal
%override ?date: "DATE"i "(" SINGLE_QUOTED ")" -> date_literal
%override ?interval: "INTERVAL"i "(" expression "," expression ")" -> interval_literal
%override attribute: PROPERTY_NAME | QUOTED_PROPERTY_NAME
PROPERTY_NAME: /[A-Za-z_:][A-Za-z0-9_:.]*/
QUOTED_PROPERTY_NAME: /"[A-Za-z_:][A-Za-z0-9_:.]*"/
%import common.WS
%ignore WS
""".replace("NAMES", "|".join(sorted(temporal.FUNCTIONS, key=len, reverse=True)))


def parse_filter(raw: str, language: str | None):
    """The pygeofilter AST of ``raw`` in ``language`` (default cql2-text).

    Raises
    ------
    InvalidInput
        Unknown language, or text that is not a filter of it.
    """
    language = ALIASES.get(language or "cql2-text", language or "cql2-text")
    if language not in LANGUAGES:
        raise InvalidInput(msg("filter-lang {value!r}: expected one of {items}",
                               value=language, items=", ".join(LANGUAGES)))
    if len(raw) > _MAX_LENGTH:
        raise InvalidInput(msg("filter: {count} characters; expected at most {limit}",
                               count=len(raw), limit=_MAX_LENGTH))
    try:
        if language == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse

            return parse(_as_pygeofilter_reads(json.loads(raw)))
        return _text_parser().parse(raw)
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 — lark's and pygeofilter's many error classes
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(msg("filter is not valid {language}: {problem}", language=language,
                               problem=first[:200])) from None


@functools.lru_cache(maxsize=1)
def _text_parser():
    """pygeofilter's CQL2 text grammar with :data:`_GRAMMAR`, built once (LALR, the
    transformer run as it parses)."""
    from lark import Lark, v_args
    from pygeofilter.parsers.cql2_text import parser as base

    @v_args(meta=False, inline=True)
    class Transformer(base.CQLTransformer):
        def SINGLE_QUOTED(self, token):  # noqa: N802 — lark names callbacks by terminal
            return token[1:-1].replace("''", "'")

        def QUOTED_PROPERTY_NAME(self, token):  # noqa: N802
            return token.update(value=token[1:-1])

        def timestamp_literal(self, text):
            return temporal.instant(text, "date-time")

        def date_literal(self, text):
            return temporal.instant(text, "date")

        def interval_literal(self, start, end):
            return temporal.interval(start, end)

        def temporal_function(self, name, *args):
            return temporal.function(str(name), list(args))

    grammar = importlib.resources.files(base.__package__).joinpath("grammar.lark")
    with _quiet_lark():
        return Lark(grammar.read_text(encoding="utf-8") + _GRAMMAR, parser="lalr",
                    maybe_placeholders=False, transformer=Transformer(),
                    source_path=base.__file__,  # its %import .wkt is relative to it
                    import_paths=[os.path.dirname(os.path.dirname(base.__file__))])


@contextlib.contextmanager
def _quiet_lark() -> Iterator[None]:
    """pygeofilter sets lark's logger to DEBUG; the draft's infix rules that the standard's
    function form replaces would each be logged as unused."""
    from lark import logger

    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _as_pygeofilter_reads(node: Any) -> Any:
    """CQL2 JSON as pygeofilter 0.4 reads it: instants, intervals and temporal functions
    read here (:mod:`layers.features.temporal`); a ``{"bbox": [minx, miny, maxx, maxy]}`` as a
    GeoJSON polygon (it takes a bbox's numbers in the wrong order); BETWEEN's ``[property,
    low, high]`` as the draft's ``[property, [low, high]]``."""
    if isinstance(node, list):
        return [_as_pygeofilter_reads(v) for v in node]
    if not isinstance(node, dict):
        return node
    if list(node) == ["timestamp"]:
        return temporal.instant(node["timestamp"], "date-time")
    if list(node) == ["date"]:
        return temporal.instant(node["date"], "date")
    if list(node) == ["interval"]:
        ends = node["interval"]
        if not isinstance(ends, list) or len(ends) != 2:
            raise InvalidInput(msg("filter: an interval is a list of 2 ends; got {value}",
                                   value=json.dumps(ends)[:200]))
        return temporal.interval(*(_walked(v) for v in ends))
    op = node.get("op")
    if isinstance(op, str) and op.upper() in temporal.FUNCTIONS:
        args = node.get("args")
        return temporal.function(op, [_walked(v) for v in args]
                                 if isinstance(args, list) else [args])
    box = node.get("bbox")
    if list(node) == ["bbox"] and isinstance(box, list) and len(box) == 4 \
            and all(isinstance(v, (int, float)) for v in box):
        x0, y0, x1, y1 = box
        return {"type": "Polygon",
                "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
    out = {k: _as_pygeofilter_reads(v) for k, v in node.items()}
    args = out.get("args")
    if out.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        out["args"] = [args[0], [args[1], args[2]]]
    return out


def _walked(node: Any) -> Any:
    """``node`` read as an operand (a property as pygeofilter's attribute)."""
    from pygeofilter.parsers.cql2_json.parser import walk_cql_json

    return walk_cql_json(_as_pygeofilter_reads(node))
