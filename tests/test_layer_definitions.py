"""The layer definitions read by libyaml's loader (layers.registry) are what PyYAML's own safe
loader reads."""
from __future__ import annotations

import yaml

from layers.registry import _SAFE_LOADER, DEFINITIONS


def test_the_fast_loader_reads_every_definition_as_the_safe_loader_does():
    assert _SAFE_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    paths = sorted(DEFINITIONS.glob("*.yaml"))
    assert paths
    for path in paths:
        source = path.read_text(encoding="utf-8")
        assert yaml.load(source, Loader=_SAFE_LOADER) == yaml.safe_load(source), path.name
