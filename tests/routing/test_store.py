"""The walking network in PostGIS: import, atomic replacement, loading, files, the CLI."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from sqlalchemy import text

from gridmap.errors import InvalidInput, NotFound
from gridmap.geo import STORAGE_SRID, transformer
from gridmap.routing import distance_matrix, path, snap, stop_problems
from gridmap.routing.sources import ways_from_file
from gridmap.routing.store import check_network, import_network, load_graph
from tests.routing.conftest import GK, ORIGIN, lines, stored, ways
from tests.test_cli import _run

DEMO = "420111"
STREET = [(0, 0), (50, 0), (100, 0)]
BRIDGE = [(50, -50), (50, 0), (50, 50)]
STAIRS = [(50, 50), (100, 50), (100, 0)]


def _lonlat(xy) -> np.ndarray:
    xy = np.asarray(xy, float) + ORIGIN
    return np.column_stack(transformer(GK, STORAGE_SRID).transform(xy[:, 0], xy[:, 1]))


def test_import_load_and_replace_atomically(db):
    drawn = stored(ways(lines(STREET, BRIDGE, STAIRS), bridge=[0, 1, 0]))
    report = import_network(db, DEMO, drawn, built_from="hand-drawn")
    assert (report.nodes, report.edges, len(report.pieces)) == (4, 3, 1)
    assert report.length_m == pytest.approx(300, abs=0.01)  # drawn in GK metres
    graph = load_graph(db, DEMO)
    assert (graph.n_nodes, graph.n_edges, graph.epsg) == (4, 3, GK)
    assert sorted(graph.length) == pytest.approx([100, 100, 100], abs=0.005)
    stops = snap(graph, _lonlat([[10, 1], [50, -40]]), max_snap_m=20, crs=STORAGE_SRID)
    assert distance_matrix(stops)[0, 1] == pytest.approx(280, abs=0.01)  # over the stairs

    again = import_network(db, DEMO, drawn, built_from="hand-drawn")
    assert again.unchanged and list(load_graph(db, DEMO).edge_ids) == list(graph.edge_ids)

    one_level = stored(ways(lines(STREET, BRIDGE, STAIRS)))
    import_network(db, DEMO, one_level, built_from="hand-drawn, one level")
    counts = db.execute(text("""
        select (select count(*) from walk_node where district_code = :d),
               (select count(*) from walk_edge where district_code = :d),
               (select count(*) from walk_edge where id = any(:old)),
               (select built_from from walk_network where district_code = :d)"""),
        {"d": DEMO, "old": graph.edge_ids.tolist()}).one()
    assert tuple(counts) == (5, 5, 0, "hand-drawn, one level")
    # the graph kept in the process is read again when the stored network changed
    assert load_graph(db, DEMO).n_edges == 5


def test_the_graph_is_read_once_while_the_network_is_unchanged(db):
    first = load_graph(db, DEMO)
    assert load_graph(db, DEMO) is first
    import_network(db, DEMO, stored(ways(lines(STREET, BRIDGE, STAIRS))), built_from="drawn")
    changed = load_graph(db, DEMO)
    assert changed is not first and changed.n_edges == 5
    assert load_graph(db, DEMO) is changed


def test_disconnected_piece_is_reported_with_its_place(db):
    apart = [(1000, 1000), (1000, 1050)]
    report = import_network(db, DEMO, stored(ways(lines(STREET, apart))), built_from="test")
    assert [(p.nodes, p.edges, round(p.length_m)) for p in report.pieces] == [(2, 1, 100),
                                                                               (2, 1, 50)]
    piece = report.pieces[1]
    expected = _lonlat([[1000, 1025]])[0]
    assert (piece.lon, piece.lat) == pytest.approx(tuple(expected), abs=1e-7)
    lines_ = report.lines()
    assert "2 connected piece(s)" in lines_[0] and "piece 2: 2 nodes, 1 edges, 50 m" in lines_[1]


def test_far_and_unreachable_stops_on_the_stored_graph(db):
    import_network(db, DEMO, stored(ways(lines(STREET, [(0, 300), (100, 300)]))),
                   built_from="test")
    graph = load_graph(db, DEMO)
    stops = snap(graph, _lonlat([[0, 2], [50, 301], [50, 150], [90, -3]]), max_snap_m=100,
                 crs=STORAGE_SRID)
    assert [(p.stop, p.reason) for p in stop_problems(stops)] == [(1, "unreachable"),
                                                                  (2, "far")]


def test_no_network_and_no_district_are_not_found(db):
    db.execute(text("delete from walk_edge; delete from walk_node"))
    with pytest.raises(NotFound, match="no walking network"):
        load_graph(db, DEMO)
    with pytest.raises(NotFound, match="999999 is not loaded"):
        load_graph(db, "999999")


def test_demo_district_has_its_walking_network(db):
    report = check_network(db, DEMO)
    assert report.built_from == f"road:{DEMO}" and report.edges > 400
    assert sum(p.nodes for p in report.pieces) == report.nodes
    # Most of it is one piece: the others are bits cut off at the edge of the demo's extent.
    assert report.pieces[0].nodes > 0.8 * report.nodes
    # Stored bridges and tunnels kept their level.
    levels = db.execute(text("select count(*) filter (where level <> 0) from walk_edge "
                             "where district_code = :d"), {"d": DEMO}).scalar_one()
    assert levels > 0


def _osm_xml(path, nodes, ways_):
    lonlat = _lonlat([xy for xy in nodes.values()])
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for (ident, _), (lon, lat) in zip(nodes.items(), lonlat):
        out.append(f'<node id="{ident}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for ident, refs, tags in ways_:
        out.append(f'<way id="{ident}" version="1">')
        out += [f'<nd ref="{r}"/>' for r in refs]
        out += [f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        out.append("</way>")
    path.write_text("\n".join(out + ["</osm>"]), encoding="utf-8")
    return path


def _bridge_osm(tmp_path):
    # Node 2 is on both the street and the footbridge (a tagging mistake OSM data has): the
    # bridge's layer keeps them apart. Way 14 is closed to walkers, way 15 is a railway.
    nodes = {1: (0, 0), 2: (50, 0), 3: (100, 0), 4: (50, -50), 5: (50, 50), 6: (100, 50),
             7: (0, 100), 8: (100, 100)}
    return _osm_xml(tmp_path / "bridge.osm", nodes, [
        (11, [1, 2, 3], {"highway": "residential", "oneway": "yes"}),
        (12, [4, 2, 5], {"highway": "footway", "bridge": "yes", "layer": "1"}),
        (13, [5, 6, 3], {"highway": "steps"}),
        (14, [1, 7, 8], {"highway": "trunk", "foot": "no"}),
        (15, [7, 4], {"railway": "rail"}),
    ])


def test_osm_file_levels_and_walkable_ways(tmp_path):
    read = ways_from_file(_bridge_osm(tmp_path))
    assert len(read) == 3 and sorted(read.levels.tolist()) == [0, 0, 1]


def _one_line_error(done, text_: str) -> None:
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and text_ in done.stderr, done.stderr


def test_cli_import_and_check(database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url}
    try:
        done = _run("network", "import", DEMO, "--file", str(_bridge_osm(tmp_path)), env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"walking network of {DEMO}: 4 nodes, 3 edges")
        checked = _run("network", "check", DEMO, "--json", env=env)
        report = json.loads(checked.stdout)
        assert report["nodes"] == 4 and report["built_from"].endswith("bridge.osm")
    finally:  # the demo's own network back, for the other tests
        done = _run("network", "import", DEMO, env=env)
    assert done.returncode == 0 and "unchanged" not in done.stdout, done.stderr
    _one_line_error(_run("network", "check", "999999", env=env), "999999 is not loaded")
    _one_line_error(_run("network", "import", DEMO, "--file", str(tmp_path / "none.pbf"),
                         env=env), "no such file")
    empty = _osm_xml(tmp_path / "empty.osm", {1: (0, 0), 2: (9, 9)},
                     [(1, [1, 2], {"railway": "rail"})])
    _one_line_error(_run("network", "import", DEMO, "--file", str(empty), env=env),
                    "no walkable way")


def test_ways_outside_the_district_are_left_out(db):
    inside = lines(STREET)
    outside = lines([(200_000, 0), (200_100, 0)])  # 200 km east
    report = import_network(db, DEMO, stored(ways(np.r_[inside, outside])), built_from="t")
    assert report.edges == 1 and report.notes == ["1 way(s) outside the district left out"]
    with pytest.raises(InvalidInput, match="no walkable way reaches district 420111 "
                                           r"\(1 lie outside it\)"):
        import_network(db, DEMO, stored(ways(outside)), built_from="t")


def test_paths_back_in_storage_coordinates(db):
    import_network(db, DEMO, stored(ways(lines(STREET, BRIDGE, STAIRS), bridge=[0, 1, 0])),
                   built_from="test")
    graph = load_graph(db, DEMO)
    given = _lonlat([[10, 0], [50, -40]])
    stops = snap(graph, given, max_snap_m=1, crs=STORAGE_SRID)
    walk = graph.to_storage(path(stops, 0, 1))
    ends = np.array([walk.coords[0], walk.coords[-1]])
    assert ends == pytest.approx(given, abs=1e-8)  # lon/lat, about a millimetre


def test_real_osm_pbf_is_read_with_its_levels_and_refused_elsewhere(db):
    # Kotka (Finland), a real OSM extract: GDAL's OSM driver, bridges and tunnels from its tags.
    from tests.conftest import TEST_DATA

    read = ways_from_file(TEST_DATA / "kotka" / "kotka_karhula_test.osm.pbf")
    assert len(read) > 300 and {-1, 0, 1} <= set(read.levels.tolist())
    with pytest.raises(InvalidInput, match=r"no walkable way reaches district 420111 "
                                           rf"\({len(read)} lie outside it\)"):
        import_network(db, DEMO, read, built_from="kotka")
