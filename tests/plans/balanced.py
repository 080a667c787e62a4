"""Finding, through the preview API, a merge and a split of a community's grids that the plan
rules accept (the demo's grids all hold 250–500 households, so a split alone leaves a grid
under the bounds; two neighbours merged and split again can fit)."""
from __future__ import annotations

from typing import Callable

import shapely

Post = Callable[[str, dict], tuple[int, dict]]


def neighbours(grids: list[tuple[str, str, object]]) -> list[tuple[str, str]]:
    """Pairs of residential grids sharing more than about 50 m of boundary, longest first."""
    found = []
    for i, (a, kind_a, ga) in enumerate(grids):
        for b, kind_b, gb in grids[i + 1:]:
            if kind_a == kind_b == "residential":
                shared = shapely.intersection(shapely.buffer(ga, 2e-6), gb).area / 4e-6
                if shared * 111_320 > 50:
                    found.append((shared, a, b))
    return [(a, b) for _, a, b in sorted(found, reverse=True)]


def lines_across(geom, count: int = 9) -> list[list[list[float]]]:
    """West–east and south–north lines across ``geom`` (from outside to outside)."""
    minx, miny, maxx, maxy = geom.bounds
    out = []
    for n in range(1, count + 1):
        f = n / (count + 1)
        y = miny + f * (maxy - miny)
        x = minx + f * (maxx - minx)
        out.append([[minx - 0.0005, y], [maxx + 0.0005, y]])
        out.append([[x, miny - 0.0005], [x, maxy + 0.0005]])
    return out


def acceptable_merge_and_split(post: Post, community: str, version: int,
                               grids: list[tuple[str, str, object]]) -> tuple[dict, dict, dict]:
    """(merge edit, split edit, preview) of two neighbours merged then split by a straight line
    into two grids that break no rule."""
    for a, b in neighbours(grids):
        merge = {"op": "merge", "grids": [a, b]}
        status, merged = post("/api/plans/preview", {"community": community,
                                                      "base_version": version,
                                                      "edits": [merge]})
        assert status == 200, merged
        feature = next(f for f in merged["grids"]["features"] if f["id"].startswith("new-"))
        shape = shapely.geometry.shape(feature["geometry"])
        for line in lines_across(shape):
            split = {"op": "split", "grid": feature["id"], "line": line}
            status, body = post("/api/plans/preview", {"community": community,
                                                        "base_version": version,
                                                        "edits": [merge, split]})
            if status == 200 and not body["comparison"]["violations"] \
                    and len(body["grids"]["features"]) == len(grids):
                return merge, split, body
    raise AssertionError(f"no merge and split of community {community} fits the bounds")
