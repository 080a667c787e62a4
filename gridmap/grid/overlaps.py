"""Footprints that duplicate one another: pairs whose overlap is a large share of the smaller.

Neighbouring buildings drawn from survey or OSM often overlap by a sliver along a shared wall;
the same building imported twice (or an OSM ``building:part`` on top of its building) overlaps
by most of its area. The share of the smaller footprint tells the two apart; one threshold
(:data:`DUPLICATE_SHARE`) is used by the import and by the validator alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

DUPLICATE_SHARE = 0.5
"""Overlap, as a share of the smaller footprint, above which two footprints are one building."""


@dataclass(frozen=True)
class OverlapPairs:
    """Index pairs ``(left[i], right[i])`` with ``left < right`` and their overlap share."""

    left: NDArray[np.int64]
    right: NDArray[np.int64]
    share: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.left.size)


def overlapping_pairs(footprints: ArrayLike, *,
                      min_share: float = DUPLICATE_SHARE) -> OverlapPairs:
    """Pairs of footprints (one array, any CRS) overlapping by more than ``min_share`` of the
    smaller one, vectorised: an STRtree finds candidates, areas decide."""
    geoms = np.asarray(footprints, dtype=object)
    empty = np.zeros(0, dtype=np.int64)
    if geoms.size < 2:
        return OverlapPairs(empty, empty, np.zeros(0))
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return OverlapPairs(empty, empty, np.zeros(0))
    areas = shapely.area(geoms)
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(areas[left], areas[right])
    share = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    hit = share > min_share
    return OverlapPairs(left[hit].astype(np.int64), right[hit].astype(np.int64), share[hit])
