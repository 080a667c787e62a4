"""The words of a layer definition a person reads: titles, field labels, map labels, legends.

A definition writes them once, in English (the msgid): ``title: Grids``,
``{name: households, label: Households}``, ``label: {variants: {residential:
["{sequence} · {households} hh"]}}``. :func:`translated` gives the definition in a locale;
:func:`extract_layer_definition` is the Babel extractor that puts those words in the
catalogue (``babel.cfg``), so a new layer's words cannot be missed by ``make translations``.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import yaml

from gridmap.i18n import translate


def _words(definition: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every user-facing string of ``definition`` with the path to it."""
    if isinstance(definition.get("title"), str):
        yield ("title",), definition["title"]
    for i, field in enumerate(definition.get("fields") or []):
        if isinstance(field.get("label"), str):
            yield ("fields", str(i), "label"), field["label"]
    label = definition.get("label")
    if isinstance(label, dict):
        for kind, variants in (label.get("variants") or {}).items():
            for i, text in enumerate(variants or []):
                yield ("label", "variants", str(kind), str(i)), text
    elif isinstance(label, list):
        for i, text in enumerate(label):
            yield ("label", str(i)), text
    for i, entry in enumerate(definition.get("legend") or []):
        if isinstance(entry, dict) and isinstance(entry.get("label"), str):
            yield ("legend", str(i), "label"), entry["label"]


def translated(definition: dict[str, Any], locale: str | None = None,
               translate_one: Callable[[str, str | None], str] = translate) -> dict[str, Any]:
    """A copy of ``definition`` with its user-facing strings in ``locale``."""
    out = yaml.safe_load(yaml.safe_dump(definition, allow_unicode=True))  # a deep copy
    for path, text in _words(definition):
        node: Any = out
        for key in path[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = path[-1]
        if isinstance(node, list):
            node[int(last)] = translate_one(text, locale)
        else:
            node[last] = translate_one(text, locale)
    return out


def extract_layer_definition(fileobj, keywords, comment_tags, options):
    """Babel extractor (``babel.cfg``): ``(lineno, funcname, message, comments)`` for every
    word of a YAML layer definition; the comment names where the word is used."""
    definition = yaml.safe_load(fileobj.read().decode(options.get("encoding", "utf-8")))
    for path, text in _words(definition or {}):
        yield 0, None, text, [f"layer {'.'.join(path)}"]
