"""Checks of request parameters shared by the data API (``webapp.params``) and the OGC API's
items query (:mod:`layers.features.items`): one value per parameter, and whole numbers in
ASCII digits within a range (``str.isdigit`` also accepts '²' and '٣')."""
from __future__ import annotations

import re
from typing import Sequence

from gridmap.errors import InvalidInput
from gridmap.i18n import msg

WHOLE = re.compile(r"[0-9]{1,12}")


def one_value(values: Sequence[str], name: str) -> str | None:
    """The one value given for parameter ``name``, None when absent; twice is an error."""
    if len(values) > 1:
        raise InvalidInput(msg("parameter {name} given {count} times; expected it once",
                               name=name, count=len(values)))
    return values[0] if values else None


def parse_limit(raw: str | None, *, default: int, ceiling: int) -> int:
    """``limit``: a whole number from 1 to ``ceiling``; ``default`` when absent."""
    if raw is None:
        return default
    if not WHOLE.fullmatch(raw) or not 1 <= int(raw) <= ceiling:
        raise InvalidInput(msg("limit {raw!r}: expected a whole number from 1 to {ceiling} in "
                               "ASCII digits", raw=raw, ceiling=ceiling))
    return int(raw)
