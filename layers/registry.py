"""Name → class registry of layer kinds, and loading of the YAML definitions."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gridmap.errors import ConfigurationError, NotFound
from gridmap.i18n import msg
from layers.base import Layer
from layers.sql import SqlLayer

DEFINITIONS = Path(__file__).resolve().parent / "definitions"
LAYER_CLASSES: dict[str, type[Layer]] = {}


def register(kind: str, cls: type[Layer]) -> None:
    LAYER_CLASSES[kind] = cls


register("sql", SqlLayer)


#: libyaml's safe loader where PyYAML was built with it: the definitions in 8 ms instead of
#: 60 ms, which every command and server start pays.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_layers(folder: Path = DEFINITIONS) -> dict[str, Layer]:
    """Every layer defined in ``folder``, ordered by their ``order`` key."""
    layers: dict[str, Layer] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            definition: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"),
                                                   Loader=_SAFE_LOADER)
        except yaml.YAMLError as exc:
            raise ConfigurationError(msg("layer definition {name}: {exc}", name=path.name,
                                         exc=exc)) from None
        kind = definition.get("kind", "sql")
        if kind not in LAYER_CLASSES:
            raise ConfigurationError(msg("layer definition {name}: unknown kind {kind!r}",
                                         name=path.name, kind=kind))
        layers[path.stem] = LAYER_CLASSES[kind](path.stem, definition)
    return dict(sorted(layers.items(), key=lambda kv: kv[1].definition.get("order", 0)))


def get_layer(layers: dict[str, Layer], name: str) -> Layer:
    try:
        return layers[name]
    except KeyError:
        raise NotFound(msg("no layer {name!r}; layers are {items}", name=name,
                           items=', '.join(layers))) from None
