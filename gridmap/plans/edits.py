"""Edits of a community's grids drawn by hand: split a grid along a line, merge two neighbours,
move buildings to a neighbouring grid, redraw a grid's boundary.

Each edit takes a :class:`Layout` (the community's grids as they stand in the editor) and gives
a new one; nothing here touches the database. The edits keep the rules of a plan: the grids
still tile the community (what one grid gives up another takes), no grid falls into more pieces
than it had, and buildings stay whole — each building belongs to the grid holding its
representative point (:func:`gridmap.grid.assign.assign_buildings_to_grids`), so moving
buildings moves the land around their points. An edit that would break a rule is refused
(:class:`~gridmap.errors.InvalidInput` saying which and where) rather than done halfway.

Shapes are in stored coordinates (EPSG:4490 lon/lat): a grid that no edit touches keeps its
stored shape to the last digit, and the edited ones meet their neighbours as they did. The
stored grids of a community meet along edges that agree only to a few centimetres, so slivers
narrower than :data:`SLIVER_M` left by an edit are closed or dropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Sequence, Union

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import split as split_by

from gridmap.errors import InvalidInput
from gridmap.grid.assign import assign_buildings_to_grids
from gridmap.i18n import msg

#: Metres per degree of latitude (the scale of tolerances given in metres).
M_PER_DEGREE = 111_320.0
#: Slivers and gaps narrower than this (metres) are left by coordinate precision, not drawn.
SLIVER_M = 0.05
#: Parts and holes smaller than this (m²) are noise of the overlay, not land.
TINY_M2 = 0.05


@dataclass(frozen=True)
class WorkingGrid:
    """A grid in the editor: ``key`` is its code while it is unchanged, ``new-N`` once made by
    an edit; ``geom`` a (multi)polygon in EPSG:4490."""

    key: str
    kind: str
    geom: BaseGeometry
    name: str | None = None


@dataclass(frozen=True)
class Layout:
    """The grids of one community in the editor, and the number the next new grid gets."""

    community: BaseGeometry
    grids: tuple[WorkingGrid, ...]
    next_number: int = 1

    def index(self, key: str) -> int:
        """Position of grid ``key``; :class:`InvalidInput` when there is none."""
        for i, grid in enumerate(self.grids):
            if grid.key == key:
                return i
        raise InvalidInput(msg("grid {key}: not among the grids being edited", key=key))

    def geoms(self) -> np.ndarray:
        return np.array([g.geom for g in self.grids], dtype=object)


@dataclass(frozen=True)
class Buildings:
    """The buildings of the community: ids and footprints (EPSG:4490) in the same order."""

    ids: np.ndarray
    footprints: np.ndarray
    households: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def labels(self, layout: Layout) -> np.ndarray:
        """Index of the grid of ``layout`` each building belongs to (``-1``: none)."""
        return assign_buildings_to_grids(self.footprints, layout.geoms())


@dataclass(frozen=True)
class Split:
    """Split grid ``key`` along ``line`` (lon/lat) into the pieces the line cuts it into."""

    key: str
    line: LineString


@dataclass(frozen=True)
class Merge:
    """Merge grid ``other`` into grid ``key`` (the merged grid keeps ``key``'s kind and name)."""

    key: str
    other: str


@dataclass(frozen=True)
class MoveBuildings:
    """Move the buildings ``building_ids`` (all of one grid) to the neighbouring grid ``to``."""

    building_ids: tuple[int, ...]
    to: str


@dataclass(frozen=True)
class Redraw:
    """Give grid ``key`` the boundary ``shape`` (lon/lat); its neighbours give up or take the
    difference."""

    key: str
    shape: BaseGeometry


Edit = Union[Split, Merge, MoveBuildings, Redraw]


# -- helpers ---------------------------------------------------------------------------------

def _scale(layout: Layout) -> tuple[float, float]:
    """(sliver width in degrees, tiny area in square degrees) at the community's latitude."""
    lat = layout.community.centroid.y if not layout.community.is_empty else 0.0
    m_per_deg2 = M_PER_DEGREE ** 2 * max(math.cos(math.radians(lat)), 0.1)
    return SLIVER_M / M_PER_DEGREE, TINY_M2 / m_per_deg2


def pieces(geom: BaseGeometry, tiny: float) -> list[Polygon]:
    """The polygons of ``geom`` larger than ``tiny``, each without holes smaller than it."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.area <= tiny:
            continue
        holes = [ring for ring in part.interiors if Polygon(ring).area > tiny]
        out.append(Polygon(part.exterior, holes))
    return out


def _cleaned(geom: BaseGeometry, tiny: float) -> BaseGeometry:
    parts = pieces(shapely.make_valid(geom), tiny)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else shapely.multipolygons(parts)


def _where(geom: BaseGeometry) -> str:
    point = geom.representative_point()
    return f"{point.x:.6f}, {point.y:.6f}"


def _check_pieces(before: BaseGeometry, after: BaseGeometry, key: str, tiny: float) -> None:
    if after.is_empty:
        raise InvalidInput(msg("grid {key} would keep no land; merge it instead", key=key))
    if len(pieces(after, tiny)) > max(1, len(pieces(before, tiny))):
        raise InvalidInput(msg("grid {key} would fall into {count} pieces (near {where}); "
                               "expected one", key=key, count=len(pieces(after, tiny)),
                               where=_where(after)))


def _closed(geom: BaseGeometry, width: float) -> BaseGeometry:
    """``geom`` with gaps narrower than ``width`` closed (a morphological closing with square
    corners, so its outline stays where it was)."""
    return shapely.buffer(shapely.buffer(geom, width, join_style="mitre"), -width,
                          join_style="mitre")


def _new_key(layout: Layout, offset: int = 0) -> str:
    return f"new-{layout.next_number + offset}"


# -- the edits -------------------------------------------------------------------------------

def split_grid(layout: Layout, key: str, line: LineString) -> Layout:
    """Cut grid ``key`` along ``line``: each piece becomes a grid of the same kind.

    The first piece (west→east, north→south by its representative point) takes ``new-N``, the
    next ``new-N+1`` and so on; the grid ``key`` leaves the layout.

    Raises
    ------
    InvalidInput
        The line does not cross the grid from edge to edge.
    """
    index = layout.index(key)
    grid = layout.grids[index]
    if not isinstance(line, LineString) or line.is_empty or len(line.coords) < 2:
        raise InvalidInput(msg("split: expected a line of at least two points"))
    _, tiny = _scale(layout)
    cut = pieces(split_by(shapely.make_valid(grid.geom), line), tiny)
    if len(cut) < 2:
        raise InvalidInput(msg("the line does not cross grid {key} from edge to edge; draw it "
                               "from outside the grid, across, to outside again", key=key))
    order = sorted(cut, key=lambda p: (-round(p.representative_point().y, 6),
                                       p.representative_point().x))
    made = tuple(WorkingGrid(_new_key(layout, i), grid.kind, piece, grid.name)
                 for i, piece in enumerate(order))
    grids = layout.grids[:index] + made + layout.grids[index + 1:]
    return replace(layout, grids=grids, next_number=layout.next_number + len(made))


def merge_grids(layout: Layout, key: str, other: str) -> Layout:
    """Merge grid ``other`` into grid ``key``: one grid, ``new-N``, of ``key``'s kind and name.

    Raises
    ------
    InvalidInput
        The two are one grid, or they do not share a boundary (the merged grid would be in two
        pieces).
    """
    if key == other:
        raise InvalidInput(msg("merge: grid {key} with itself; expected two grids", key=key))
    i, j = layout.index(key), layout.index(other)
    a, b = layout.grids[i], layout.grids[j]
    width, tiny = _scale(layout)
    merged = _cleaned(shapely.union(a.geom, b.geom), tiny)
    expected = max(len(pieces(a.geom, tiny)), len(pieces(b.geom, tiny)))
    if len(pieces(merged, tiny)) > expected:
        # stored neighbours meet to a few centimetres: close the hairline gap between them
        between = shapely.intersection(shapely.buffer(a.geom, width),
                                       shapely.buffer(b.geom, width))
        merged = _cleaned(shapely.union(merged, shapely.intersection(
            _closed(merged, width), between)), tiny)
    if len(pieces(merged, tiny)) > expected:
        raise InvalidInput(msg("grids {a} and {b} do not share a boundary; expected two "
                               "neighbouring grids", a=key, b=other))
    grids = [g for n, g in enumerate(layout.grids) if n not in (i, j)]
    grids.insert(min(i, j), WorkingGrid(_new_key(layout), a.kind, merged, a.name))
    return replace(layout, grids=tuple(grids), next_number=layout.next_number + 1)


def _cells(area: BaseGeometry, points: np.ndarray) -> np.ndarray:
    """The Voronoi cell (inside ``area``) of each of ``points`` (distinct points)."""
    if len(points) == 1:
        return np.array([area], dtype=object)
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=area,
                                       ordered=True)
    return shapely.intersection(shapely.get_parts(diagram), area)


def move_buildings(layout: Layout, buildings: Buildings, building_ids: Sequence[int],
                   to: str) -> Layout:
    """Move buildings to the neighbouring grid ``to``, with the land nearer to them than to
    any other building of their grid (the Voronoi cells of their representative points, as
    the partitioner's tiles are drawn). Both grids are replaced by new ones (``new-N`` for
    the grid the buildings leave, ``new-N+1`` for ``to``).

    Raises
    ------
    InvalidInput
        No building, an unknown one, buildings of several grids or already in ``to``, a move
        that would leave the grid without land or either grid in two pieces.
    """
    wanted = list(dict.fromkeys(int(b) for b in building_ids))
    if not wanted:
        raise InvalidInput(msg("move: expected at least one building"))
    target = layout.index(to)
    where = {int(b): n for n, b in enumerate(buildings.ids)}
    missing = [b for b in wanted if b not in where]
    if missing:
        raise InvalidInput(msg("building {id}: not in this community", id=missing[0]))
    labels = buildings.labels(layout)
    rows = np.array([where[b] for b in wanted])
    sources = set(labels[rows].tolist())
    if len(sources) != 1 or -1 in sources:
        raise InvalidInput(msg("move: the buildings lie in {count} grids; expected buildings "
                               "of one grid", count=len(sources - {-1}) or 0))
    source = sources.pop()
    if source == target:
        raise InvalidInput(msg("the buildings are already in grid {key}", key=to))
    src, dst = layout.grids[source], layout.grids[target]
    members = np.nonzero(labels == source)[0]
    points = shapely.get_coordinates(shapely.point_on_surface(buildings.footprints[members]))
    distinct, owner = np.unique(points, axis=0, return_inverse=True)
    owner = owner.reshape(-1)
    moving = np.isin(members, rows)
    shared = set(owner[moving].tolist()) & set(owner[~moving].tolist())
    if shared:
        raise InvalidInput(msg("building {id} shares its point with a building that stays; "
                               "move both", id=int(buildings.ids[members[moving][0]])))
    cells = _cells(src.geom, shapely.points(distinct))
    region = shapely.union_all(cells[np.unique(owner[moving])])
    width, tiny = _scale(layout)
    left = _cleaned(shapely.difference(src.geom, region), tiny)
    taken = _cleaned(shapely.union(dst.geom, shapely.intersection(region, src.geom)), tiny)
    _check_pieces(src.geom, left, src.key, tiny)
    if len(pieces(taken, tiny)) > max(1, len(pieces(dst.geom, tiny))):
        between = shapely.intersection(shapely.buffer(region, width),
                                       shapely.buffer(dst.geom, width))
        taken = _cleaned(shapely.union(taken, shapely.intersection(
            _closed(taken, width), between)), tiny)
    if len(pieces(taken, tiny)) > max(1, len(pieces(dst.geom, tiny))):
        raise InvalidInput(msg("the buildings do not border grid {key} (near {where}); move "
                               "the buildings next to it first", key=to, where=_where(region)))
    grids = list(layout.grids)
    grids[source] = WorkingGrid(_new_key(layout), src.kind, left, src.name)
    grids[target] = WorkingGrid(_new_key(layout, 1), dst.kind, taken, dst.name)
    return replace(layout, grids=tuple(grids), next_number=layout.next_number + 2)


def redraw_grid(layout: Layout, key: str, shape: BaseGeometry) -> Layout:
    """Give grid ``key`` the boundary ``shape`` (kept inside the community): neighbours lose
    what it takes, and each piece of land it gives up goes to the neighbour it borders most.
    The redrawn grid gets the key ``new-N``, the neighbours that changed the next ones.

    Raises
    ------
    InvalidInput
        Not a polygon, land given up that borders no other grid, or a grid left without land
        or in more pieces than before.
    """
    index = layout.index(key)
    grid = layout.grids[index]
    if not isinstance(shape, BaseGeometry) or shape.geom_type not in ("Polygon",
                                                                      "MultiPolygon"):
        raise InvalidInput(msg("redraw: expected a polygon"))
    width, tiny = _scale(layout)
    # vertices the planner did not move come back rounded for display: put them back
    drawn = shapely.snap(shapely.make_valid(shape), grid.geom, 2 * width)
    new = _cleaned(shapely.intersection(drawn, layout.community), tiny)
    _check_pieces(grid.geom, new, key, tiny)
    shapes = [g.geom for g in layout.grids]
    shapes[index] = new
    gained = shapely.difference(new, grid.geom)
    if not gained.is_empty:
        for n, other in enumerate(layout.grids):
            if n != index and shapely.intersects(other.geom, gained):
                shapes[n] = _cleaned(shapely.difference(shapes[n], new), tiny)
    for lost in pieces(shapely.difference(grid.geom, new), tiny):
        if shapely.buffer(lost, -width / 2).is_empty:
            continue  # a hairline left by the snapping, not land
        reach = shapely.buffer(lost, width)
        border = [shapely.area(shapely.intersection(reach, shapes[n])) if n != index else 0.0
                  for n in range(len(shapes))]
        best = int(np.argmax(border)) if border else -1
        if best < 0 or border[best] <= tiny:
            raise InvalidInput(msg("the land given up near {where} borders no other grid; "
                                   "expected every part of the community in a grid",
                                   where=_where(lost)))
        shapes[best] = _cleaned(shapely.union(shapes[best], lost), tiny)
    grids = list(layout.grids)
    number = layout.next_number
    # the redrawn grid first, then the neighbours that changed
    changed = [index] + [n for n, (old, now) in enumerate(zip(layout.grids, shapes))
                         if n != index and now is not old.geom]
    for n in changed:
        old = layout.grids[n]
        _check_pieces(old.geom, shapes[n], old.key, tiny)
        grids[n] = WorkingGrid(f"new-{number}", old.kind, shapes[n], old.name)
        number += 1
    return replace(layout, grids=tuple(grids), next_number=number)


def apply_edit(layout: Layout, edit: Edit, buildings: Buildings) -> Layout:
    """One edit of any kind."""
    if isinstance(edit, Split):
        return split_grid(layout, edit.key, edit.line)
    if isinstance(edit, Merge):
        return merge_grids(layout, edit.key, edit.other)
    if isinstance(edit, MoveBuildings):
        return move_buildings(layout, buildings, edit.building_ids, edit.to)
    if isinstance(edit, Redraw):
        return redraw_grid(layout, edit.key, edit.shape)
    raise TypeError(f"not an edit: {edit!r}")


def apply_edits(layout: Layout, edits: Sequence[Edit], buildings: Buildings) -> Layout:
    """The edits in order; the one that cannot be done is named with its number."""
    for number, edit in enumerate(edits, start=1):
        try:
            layout = apply_edit(layout, edit, buildings)
        except InvalidInput as exc:
            raise InvalidInput(msg("edit {number}: {reason}", number=number,
                                   reason=exc.detail)) from None
    return layout
