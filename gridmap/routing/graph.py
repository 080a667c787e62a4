"""The walking graph in memory: edges in a projected CRS and a symmetric CSR adjacency.

A :class:`WalkGraph` is built once (from the database by :func:`gridmap.routing.store.load_graph`
or from noded ways by :meth:`WalkGraph.from_noded`) and then answers every snap, distance
matrix and path of a request. Walking ignores one-way rules, so the adjacency is symmetric;
parallel edges between the same two nodes keep the shorter one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from gridmap.geo import STORAGE_SRID, transformer
from gridmap.routing.network import Noded


@dataclass(frozen=True)
class Adjacency:
    """A symmetric CSR graph whose every entry remembers the stretch of edge it walks.

    Attributes
    ----------
    csr
        ``(n, n)`` lengths in metres; entry ``(p, q)`` is the shortest stretch from p to q.
    base
        For each stored entry, the edge index it walks along.
    start, end
        Offsets (metres from the edge's source) where the walk enters and leaves the edge:
        ``start > end`` when the edge is walked backwards.
    """

    csr: csr_matrix
    base: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def build(cls, n_nodes: int, u: np.ndarray, v: np.ndarray, base: np.ndarray,
              start: np.ndarray, end: np.ndarray) -> Adjacency:
        """Both directions of each stretch ``u → v`` (``base`` edge from ``start`` to
        ``end``); loops are left out (they never shorten a walk between nodes)."""
        keep = u != v
        u, v, base, start, end = u[keep], v[keep], base[keep], start[keep], end[keep]
        rows, cols = np.r_[u, v], np.r_[v, u]
        base2, start2, end2 = np.r_[base, base], np.r_[start, end], np.r_[end, start]
        weight = np.abs(end2 - start2)
        order = np.lexsort((weight, cols, rows))
        rows, cols = rows[order], cols[order]
        first = np.ones(len(rows), bool)  # the shortest of each (row, col)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        pick = order[first]
        rows, cols = rows[first], cols[first]
        indptr = np.searchsorted(rows, np.arange(n_nodes + 1))
        csr = csr_matrix((weight[pick], cols.astype(np.int32), indptr.astype(np.int32)),
                         shape=(n_nodes, n_nodes))
        return cls(csr, base2[pick], start2[pick], end2[pick])

    def entries(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The stored entry index of each step ``p[i] → q[i]`` (both must be adjacent)."""
        n = self.csr.shape[0]
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.csr.indptr))
        keys = rows * n + self.csr.indices
        return np.searchsorted(keys, np.asarray(p, np.int64) * n + np.asarray(q, np.int64))


@dataclass(eq=False)
class WalkGraph:
    """A district's walking network in its projected CRS.

    Attributes
    ----------
    epsg
        The projected CRS of every coordinate and length (the district's Gauss–Krüger zone).
    node_xy
        ``(n, 2)`` node coordinates.
    source, target
        Node indices of each edge.
    length
        Edge lengths in metres.
    geoms
        Edge LineStrings from source to target.
    edge_ids
        The ``walk_edge`` ids (or positions when the graph is not stored).
    node_ids
        The ``walk_node`` ids (or positions).
    """

    epsg: int
    node_xy: np.ndarray
    source: np.ndarray
    target: np.ndarray
    length: np.ndarray
    geoms: np.ndarray
    edge_ids: np.ndarray = field(default=None)  # type: ignore[assignment]
    node_ids: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.edge_ids is None:
            self.edge_ids = np.arange(len(self.source))
        if self.node_ids is None:
            self.node_ids = np.arange(len(self.node_xy))

    @classmethod
    def from_noded(cls, noded: Noded, epsg: int) -> WalkGraph:
        """A graph of ways noded in the projected CRS ``epsg`` (lengths measured there)."""
        return cls(epsg=epsg, node_xy=noded.node_xy, source=noded.source,
                   target=noded.target, length=shapely.length(noded.geoms),
                   geoms=noded.geoms)

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        return len(self.source)

    def to_storage(self, geoms):
        """Geometries of this graph's CRS (paths, snapped points) in EPSG:4490, lon/lat order,
        for storing and exporting."""
        trans = transformer(self.epsg, STORAGE_SRID)
        return shapely.transform(geoms, lambda xy: np.column_stack(
            trans.transform(xy[:, 0], xy[:, 1])))

    @cached_property
    def adjacency(self) -> Adjacency:
        """Node-to-node adjacency over whole edges."""
        zeros = np.zeros(self.n_edges)
        return Adjacency.build(self.n_nodes, self.source, self.target,
                               np.arange(self.n_edges), zeros, self.length.astype(float))

    @cached_property
    def components(self) -> np.ndarray:
        """The connected-component label of each node."""
        return connected_components(self.adjacency.csr, directed=False)[1]

    @cached_property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the edges, for snapping."""
        return shapely.STRtree(self.geoms)
