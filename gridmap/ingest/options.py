"""Command-line options of ``gridmap import`` turned into recipe values.

Each option is the command-line spelling of one recipe key (see README, "Importing"):
``--field TARGET=SOURCE`` → ``fields``, ``--where …`` → ``where``
(:func:`gridmap.ingest.rowfilter.parse_condition`), ``--households KEY=VALUE,…`` and
``--households-rule FILE`` → ``households``. Values are checked with the recipe itself, so an
option and a recipe key get the same answer for the same mistake.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gridmap.errors import ImportFailed, InvalidInput
from gridmap.i18n import msg
from gridmap.ingest.rowfilter import combine, parse_condition

# Commas separate KEY=VALUE items, except inside a [list].
_ITEM_SPLIT = re.compile(r",(?![^\[]*\])")


def parse_fields(items: tuple[str, ...]) -> dict[str, str]:
    """``--field TARGET=SOURCE`` options as a mapping."""
    mapping: dict[str, str] = {}
    for item in items:
        target, sep, source = item.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise InvalidInput(msg("--field {item!r}: expected TARGET=SOURCE, e.g. "
                                   "source_id=BLDG_ID", item=item))
        mapping[target.strip()] = source.strip()
    return mapping


def parse_where(items: tuple[str, ...]) -> dict[str, Any] | None:
    """``--where`` options as one filter (every condition must hold)."""
    return combine([parse_condition(item) for item in items]) if items else None


def parse_households(text: str | None) -> dict[str, Any] | None:
    """``--households default`` or ``--households KEY=VALUE[,KEY=VALUE…]`` as a rule.

    Values are read as YAML scalars (``90`` is a number, ``[a, b]`` a list).
    """
    if text is None:
        return None
    if text.strip() in ("default", "defaults"):
        return {}
    rule: dict[str, Any] = {}
    for item in _ITEM_SPLIT.split(text):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(msg("--households {text!r}: item {item!r} is not KEY=VALUE; "
                                   "expected 'default' or KEY=VALUE[,KEY=VALUE…], e.g. "
                                   "dwelling_m2=90,net_ratio=0.75", text=text, item=item))
        try:
            rule[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise InvalidInput(msg("--households: value {value!r} of {key} is not a number, "
                                   "text or [list]", value=value, key=key.strip())) from None
    return rule


def load_rule_file(path: Path | None) -> dict[str, Any] | None:
    """A households rule from a YAML file (a mapping of the rule's parameters)."""
    if path is None:
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFailed(msg("cannot read households rule {path}: {first}", path=path,
                               first=first)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ImportFailed(msg("households rule {path}: got {type}, expected a mapping such as "
                               "{{dwelling_m2: 90, net_ratio: 0.75}}", path=path,
                               type=type(data).__name__))
    return data


def households_rule(text: str | None, path: Path | None) -> dict[str, Any] | None:
    """The rule from ``--households-rule FILE``, updated by ``--households KEY=VALUE,…``."""
    from_file, from_text = load_rule_file(path), parse_households(text)
    if from_file is None and from_text is None:
        return None
    return {**(from_file or {}), **(from_text or {})}
