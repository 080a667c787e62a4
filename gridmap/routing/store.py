"""A district's walking network in PostGIS: built from ways, stored, checked, loaded.

:func:`import_network` nodes the ways (:mod:`gridmap.routing.network`), measures the edges in
the district's Gauss–Krüger zone and replaces the district's ``walk_node``/``walk_edge`` rows
in the caller's transaction, under the district's lock: readers see the old network until the
commit, then the new one, never a mixture. Input identical to the stored network's (same
digest) writes nothing. :func:`load_graph` reads it back into a :class:`WalkGraph`, kept in
the process for the next request until the stored network changes (its ``walk_network`` row
says when: digest and build time), so a server reads a large network once, and its spatial
index and connected pieces are computed once.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput, NotFound
from gridmap.geo import STORAGE_SRID, project_stored, transformer
from gridmap.i18n import msg
from gridmap.locks import lock_district
from gridmap.models import District, WalkNetwork
from gridmap.routing.graph import WalkGraph
from gridmap.routing.network import Ways, node_ways


@dataclass(frozen=True)
class Piece:
    """One connected piece of a network: its size and a point of it (lon, lat)."""

    nodes: int
    edges: int
    length_m: float
    lon: float
    lat: float


@dataclass
class NetworkReport:
    """What an import built, or what a check found."""

    district: str
    built_from: str
    nodes: int
    edges: int
    length_m: float
    pieces: list[Piece]
    unchanged: bool = False
    notes: list[str] = field(default_factory=list)

    def lines(self, *, limit: int = 10) -> list[str]:
        """The report as text: a summary, then each piece beyond the largest."""
        head = msg("walking network of {district}: {nodes} nodes, {edges} edges, {km:.2f} km, "
                   "{count} connected piece(s)", district=self.district, nodes=self.nodes,
                   edges=self.edges, km=self.length_m / 1000, count=len(self.pieces))
        out = [str(head) + (str(msg(" (unchanged)")) if self.unchanged else "")]
        for number, piece in enumerate(self.pieces[1:limit + 1], start=2):
            out.append(str(msg("  piece {number}: {nodes} nodes, {edges} edges, {length:.0f} m, "
                               "at {lon:.6f}, {lat:.6f} (lon, lat): not connected to the "
                               "largest piece", number=number, nodes=piece.nodes,
                               edges=piece.edges, length=piece.length_m, lon=piece.lon,
                               lat=piece.lat)))
        if len(self.pieces) > limit + 1:
            out.append(str(msg("  … and {count} more piece(s)",
                               count=len(self.pieces) - limit - 1)))
        return out + [f"  {note}" for note in self.notes]


def _district(session: Session, district: str) -> District:
    found = session.get(District, district)
    if found is None:
        raise NotFound(msg("district {district} is not loaded; load it first (gridmap demo, "
                           "or import a districts layer)", district=district))
    return found


def _digest(ways: Ways) -> str:
    data = hashlib.sha256(b"".join(shapely.to_wkb(ways.geoms)))
    data.update(np.asarray(ways.levels, np.int64).tobytes())
    return data.hexdigest()


def _reaching(session: Session, district: str, ways: Ways) -> tuple[Ways, int]:
    """The ways that reach the district (a way crossing its boundary is kept whole, so
    walks near the boundary can use it), and how many were left out."""
    boundary = session.execute(text("select ST_AsBinary(geom) from district where code = :d"),
                               {"d": district}).scalar_one()
    keep = shapely.intersects(ways.geoms, shapely.from_wkb(bytes(boundary)))
    return (Ways(ways.geoms[keep], np.asarray(ways.levels)[keep],
                 np.asarray(ways.road_ids)[keep]), int((~keep).sum()))


def pieces(graph: WalkGraph) -> list[Piece]:
    """The connected pieces of ``graph``, largest first (ties: longest), each with a point
    (the middle of its longest edge) in lon/lat."""
    labels = graph.components
    if graph.n_nodes == 0:
        return []
    count = labels.max() + 1
    nodes = np.bincount(labels, minlength=count)
    edge_label = labels[graph.source]
    edges = np.bincount(edge_label, minlength=count)
    length = np.bincount(edge_label, weights=graph.length, minlength=count)
    # The longest edge of each piece: sort by (piece, length), keep the last of each piece.
    order = np.lexsort((graph.length, edge_label))
    last = order[np.r_[edge_label[order][1:] != edge_label[order][:-1], True]]
    where = np.zeros((count, 2))
    where[labels] = graph.node_xy  # a piece without edges is one node
    if len(last):
        middles = shapely.line_interpolate_point(graph.geoms[last], 0.5, normalized=True)
        where[edge_label[last]] = shapely.get_coordinates(middles)
    lon, lat = transformer(graph.epsg, STORAGE_SRID).transform(where[:, 0], where[:, 1])
    rank = np.lexsort((-length, -nodes))
    return [Piece(int(nodes[i]), int(edges[i]), float(length[i]), float(lon[i]), float(lat[i]))
            for i in rank]


def _write(session: Session, district: str, epsg: int, ways: Ways) -> WalkGraph:
    noded = node_ways(ways)
    projected = project_stored(noded.geoms, epsg)
    length = shapely.length(projected)
    n, m = len(noded.node_xy), len(noded.source)
    ids = np.array(session.execute(text(
        "select nextval('walk_id_seq') from generate_series(1, :count)"),
        {"count": n + m}).scalars().all(), np.int64)
    node_ids, edge_ids = ids[:n], ids[n:]
    session.execute(text("delete from walk_edge where district_code = :d"), {"d": district})
    session.execute(text("delete from walk_node where district_code = :d"), {"d": district})
    points = shapely.set_srid(shapely.points(noded.node_xy), STORAGE_SRID)
    session.execute(text("""
        insert into walk_node (id, district_code, geom)
        select id, :d, ST_GeomFromEWKB(wkb)
        from unnest(cast(:ids as bigint[]), cast(:wkb as bytea[])) as v(id, wkb)"""),
        {"d": district, "ids": node_ids.tolist(),
         "wkb": list(shapely.to_wkb(points, include_srid=True))})
    lines = shapely.set_srid(noded.geoms, STORAGE_SRID)
    session.execute(text("""
        insert into walk_edge (id, district_code, source, target, length_m, level, road_id,
                               geom)
        select id, :d, source, target, length_m, level, nullif(road_id, -1),
               ST_GeomFromEWKB(wkb)
        from unnest(cast(:ids as bigint[]), cast(:source as bigint[]),
                    cast(:target as bigint[]), cast(:length as float8[]),
                    cast(:level as smallint[]), cast(:road as integer[]), cast(:wkb as bytea[]))
             as v(id, source, target, length_m, level, road_id, wkb)"""),
        {"d": district, "ids": edge_ids.tolist(), "source": node_ids[noded.source].tolist(),
         "target": node_ids[noded.target].tolist(), "length": length.tolist(),
         "level": noded.levels.tolist(), "road": noded.road_ids.tolist(),
         "wkb": list(shapely.to_wkb(lines, include_srid=True))})
    node_xy = np.column_stack(transformer(STORAGE_SRID, epsg).transform(
        noded.node_xy[:, 0], noded.node_xy[:, 1])) if n else np.empty((0, 2))
    return WalkGraph(epsg=epsg, node_xy=node_xy, source=noded.source, target=noded.target,
                     length=length, geoms=projected, edge_ids=edge_ids, node_ids=node_ids)


def import_network(session: Session, district: str, ways: Ways, *, built_from: str
                   ) -> NetworkReport:
    """Replace the district's walking network by the network of ``ways`` (EPSG:4490).

    Parameters
    ----------
    session
        The caller's session; nothing is committed here.
    district
        The district's code.
    ways
        Walkable ways in EPSG:4490 (:mod:`gridmap.routing.sources`).
    built_from
        What the ways came from, for the report and ``walk_network``.

    Raises
    ------
    NotFound
        The district is not loaded.
    InvalidInput
        There is no walkable way.
    """
    lock_district(session, district)
    epsg = _district(session, district).projected_epsg
    ways, outside = _reaching(session, district, ways)
    if len(ways) == 0:
        if outside:
            raise InvalidInput(msg("{source}: no walkable way reaches district {district} "
                                   "({count} lie outside it)", source=built_from,
                                   district=district, count=outside))
        raise InvalidInput(msg("{source}: no walkable way for district {district}",
                               source=built_from, district=district))
    digest = _digest(ways)
    stored = session.get(WalkNetwork, district)
    if stored is not None and stored.digest == digest:
        report = check_network(session, district)
        report.unchanged = True
        return report
    graph = _write(session, district, epsg, ways)
    found = pieces(graph)
    values = {"built_from": built_from[:300], "digest": digest, "nodes": graph.n_nodes,
              "edges": graph.n_edges, "components": len(found)}
    session.execute(text("""
        insert into walk_network (district_code, built_from, digest, nodes, edges, components)
        values (:d, :built_from, :digest, :nodes, :edges, :components)
        on conflict (district_code) do update set built_from = excluded.built_from,
            digest = excluded.digest, nodes = excluded.nodes, edges = excluded.edges,
            components = excluded.components, built_at = now()"""), {"d": district, **values})
    session.expire_all()
    notes = [str(msg("{count} way(s) outside the district left out", count=outside))
             ] if outside else []
    return NetworkReport(district, built_from, graph.n_nodes, graph.n_edges,
                         float(graph.length.sum()), found, notes=notes)


#: Graphs kept per process (the districts routed last); each with the stamp of the stored
#: network it was read from.
KEPT_GRAPHS = 4
_kept: OrderedDict[str, tuple[tuple, WalkGraph]] = OrderedDict()
_kept_lock = threading.Lock()


def load_graph(session: Session, district: str) -> WalkGraph:
    """The district's stored walking network, in its Gauss–Krüger zone: the one this process
    read before while the stored network is unchanged (the same object: read-only), else read
    now.

    Raises
    ------
    NotFound
        The district is not loaded, or has no walking network yet.
    """
    stamp = session.execute(text(
        "select digest, built_at, nodes, edges from walk_network where district_code = :d"),
        {"d": district}).first()
    stamp = tuple(stamp) if stamp is not None else None
    with _kept_lock:
        kept = _kept.get(district)
        if kept is not None and stamp is not None and kept[0] == stamp:
            _kept.move_to_end(district)
            return kept[1]
    graph = _read_graph(session, district)
    if stamp is not None:
        with _kept_lock:
            _kept[district] = (stamp, graph)
            _kept.move_to_end(district)
            while len(_kept) > KEPT_GRAPHS:
                _kept.popitem(last=False)
    return graph


def _read_graph(session: Session, district: str) -> WalkGraph:
    epsg = _district(session, district).projected_epsg
    nodes = session.execute(text("""
        select id, ST_X(geom) as x, ST_Y(geom) as y from walk_node
        where district_code = :d order by id"""), {"d": district}).all()
    if not nodes:
        raise NotFound(msg("district {district} has no walking network; build it with "
                           "gridmap network import {district}", district=district))
    edges = session.execute(text("""
        select id, source, target, length_m, ST_AsBinary(geom) as wkb from walk_edge
        where district_code = :d order by id"""), {"d": district}).all()
    node_ids = np.array([r.id for r in nodes], np.int64)
    lon, lat = np.array([r.x for r in nodes]), np.array([r.y for r in nodes])
    node_xy = np.column_stack(transformer(STORAGE_SRID, epsg).transform(lon, lat))
    # node_ids is sorted: an id's position is where it sorts in.
    source = np.searchsorted(node_ids, np.array([r.source for r in edges], np.int64))
    target = np.searchsorted(node_ids, np.array([r.target for r in edges], np.int64))
    geoms = project_stored(shapely.from_wkb([bytes(r.wkb) for r in edges]), epsg)
    return WalkGraph(epsg=epsg, node_xy=node_xy, source=source, target=target,
                     length=np.array([r.length_m for r in edges], float), geoms=geoms,
                     edge_ids=np.array([r.id for r in edges], np.int64), node_ids=node_ids)


def check_network(session: Session, district: str) -> NetworkReport:
    """The stored network's size and connected pieces (largest first)."""
    graph = load_graph(session, district)
    stored = session.get(WalkNetwork, district)
    return NetworkReport(district, stored.built_from if stored else "", graph.n_nodes,
                         graph.n_edges, float(graph.length.sum()), pieces(graph))
