"""The shared tile cache over real HTTP and two server processes: an edit, a redraw, an import
change exactly the tiles they touch, at every zoom, for both processes; a far tile stays
cached; a tile rendered while a change commits is not served after it."""
from __future__ import annotations

import mapbox_vector_tile
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select, text

from gridmap.db import session_scope
from gridmap.tiles.tilemath import MAX_ZOOM, tile_of

BUILDING_ZOOMS = range(14, MAX_ZOOM + 1)  # buildings are drawn from z14


def _point(url: str, sql: str, **params) -> tuple[float, float, object]:
    with session_scope(url) as session:
        row = session.execute(text(sql), params).one()
    return row[0], row[1], row[2]


def _tiles(layer: str, lon: float, lat: float, zooms) -> list[str]:
    out = []
    for z in zooms:
        x, y = tile_of(lon, lat, z)
        out.append(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    return out


def _far_tile(world, layer: str, lon: float, lat: float, z: int, table_sql: str) -> str:
    """A tile of zoom ``z`` with features, two tiles or more away from the point."""
    x, y = tile_of(lon, lat, z)
    with session_scope(world.url) as session:
        points = session.execute(text(table_sql)).all()
    for plon, plat in points:
        fx, fy = tile_of(plon, plat, z)
        if max(abs(fx - x), abs(fy - y)) >= 2:
            return f"/tiles/{layer}/{z}/{fx}/{fy}.mvt"
    raise AssertionError("no far tile")


def _prime(world, paths: list[str]) -> dict[str, str]:
    """Fetch every tile on the first server, then see the second one serve it from the
    shared cache; the ETags."""
    tags = {}
    for path in paths:
        first = world.get(path, 0)
        assert first.status_code == 200, first.text
        again = world.get(path, 1)
        assert again.headers["X-Tile-Cache"] == "hit", path
        assert again.content == first.content
        tags[path] = first.headers["ETag"]
    return tags


def _features(response, layer: str) -> list[dict]:
    decoded = mapbox_vector_tile.decode(response.content) if response.content else {}
    return decoded.get(layer, {}).get("features", [])


def test_an_edited_building_changes_the_tiles_over_it_at_every_zoom_and_no_far_tile(world):
    lon, lat, building = _point(world.url, """
        select ST_X(c), ST_Y(c), id from (select id, ST_Centroid(footprint) c from building
        order by ST_Area(footprint) desc limit 1) b""")
    near = _tiles("buildings", lon, lat, BUILDING_ZOOMS)
    far = _far_tile(world, "buildings", lon, lat, 17,
                    "select ST_X(ST_Centroid(footprint)), ST_Y(ST_Centroid(footprint)) "
                    "from building order by id")
    before = _prime(world, near + [far])
    with session_scope(world.url) as session:  # about 3 m east
        session.execute(text("update building set footprint = "
                             "ST_Translate(footprint, 0.00003, 0) where id = :id"),
                        {"id": building})
    for path in near:
        after = world.get(path, 1)  # the other process
        assert after.headers["X-Tile-Cache"] == "miss", path
        assert after.headers["ETag"] != before[path], path
    kept = world.get(far, 1)
    assert kept.headers["X-Tile-Cache"] == "hit"
    assert kept.headers["ETag"] == before[far]
    # the tile at z18 holds the building where it now is (within a pixel)
    z = MAX_ZOOM
    x, y = tile_of(lon, lat, z)
    moved = [f for f in _features(world.get(f"/tiles/buildings/{z}/{x}/{y}.mvt"), "buildings")
             if f["properties"]["id"] == building]
    assert len(moved) == 1
    with session_scope(world.url) as session:
        expected = session.execute(text(
            "select ST_AsText(ST_AsMVTGeom(footprint_3857, ST_TileEnvelope(:z, :x, :y), 4096, 64)) "
            "from building where id = :id"), {"z": z, "x": x, "y": y, "id": building}).scalar()
    got = shapely.geometry.shape(moved[0]["geometry"])
    want = shapely.from_wkt(expected)
    # mapbox_vector_tile flips y to point up; compare sizes and x positions, in tile pixels
    assert abs(got.bounds[0] - want.bounds[0]) <= 1 and abs(got.area - want.area) <= 0.02 * want.area


def test_a_tile_holds_the_features_inside_it_and_no_other(world):
    lon, lat, _ = _point(world.url, "select ST_X(c), ST_Y(c), 0 from (select "
                                    "ST_Centroid(ST_Extent(footprint)::geometry) c from building) b")
    z = 16
    x, y = tile_of(lon, lat, z)
    answer = world.get(f"/tiles/buildings/{z}/{x}/{y}.mvt")
    assert answer.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    decoded = {f["properties"]["id"]: f["properties"] for f in _features(answer, "buildings")}
    with session_scope(world.url) as session:
        inside = dict(session.execute(text(
            "select b.id, g.code from building b left join grid g on g.id = b.grid_id "
            "where ST_Intersects(b.footprint_3857, ST_TileEnvelope(:z, :x, :y))"),
            {"z": z, "x": x, "y": y}).all())
        reach = set(session.execute(text(
            "select id from building where footprint_3857 && "
            "ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096)"),
            {"z": z, "x": x, "y": y}).scalars())
    assert inside and set(inside) <= set(decoded) <= reach
    assert all(decoded[i]["grid_code"] == code for i, code in inside.items() if code)


def test_a_redraw_invalidates_the_grid_tiles_it_touches_and_the_buildings_under_it(world):
    from gridmap.grid.assign import assign_district
    from gridmap.grid.redraw import GridFeature, apply_grids
    from gridmap.models import Grid
    from tests.plans.shapes import cut_across

    lon, lat, code = _point(world.url, """
        select ST_X(p), ST_Y(p), code from (select code,
        (ST_MaximumInscribedCircle(geom)).center p from grid where valid_to is null
        and kind = 'residential' order by households desc, code limit 1) g""")
    near = _tiles("grids", lon, lat, range(10, MAX_ZOOM + 1)) + [
        _tiles("buildings", lon, lat, [16])[0]]
    far = _far_tile(world, "grids", lon, lat, 16,
                    "select ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                    "from grid where valid_to is null order by code")
    before = _prime(world, near + [far])
    with session_scope(world.url) as session:
        grid = session.execute(select(Grid).where(Grid.code == code)).scalar_one()
        community, district = grid.community_code, grid.district_code
        others = session.execute(select(Grid).where(Grid.community_code == community,
                                                    Grid.valid_to.is_(None),
                                                    Grid.code != code)).scalars().all()
        halves = cut_across(to_shape(grid.geom), 0.5, True)
        features = [GridFeature(community, grid.kind, part) for part in halves] + [
            GridFeature(community, g.kind, to_shape(g.geom), code=g.code, name=g.name)
            for g in others]
        changes = apply_grids(session, features, replace=True, note="tile test")
        assign_district(session, district)
    assert code in changes.retired
    for path in near:
        after = world.get(path, 1)
        assert after.headers["X-Tile-Cache"] == "miss", path
    codes = {f["properties"]["code"] for f in _features(world.get(near[-2], 1), "grids")}
    assert code not in codes and set(changes.inserted) & codes
    kept = world.get(far, 1)
    assert kept.headers["X-Tile-Cache"] == "hit" and kept.headers["ETag"] == before[far]


def test_a_tile_rendered_while_a_change_commits_is_not_served_after_it(world):
    """The writer's trigger runs before the tile is rendered (so there is nothing to delete),
    the render does not see the uncommitted change, and is stored; once the change commits
    the stored tile must not be served."""
    from gridmap.db import get_engine
    from sqlalchemy.orm import Session

    lon, lat, building = _point(world.url, """
        select ST_X(c), ST_Y(c), id from (select id, ST_Centroid(footprint) c from building
        order by id limit 1) b""")
    path = _tiles("buildings", lon, lat, [17])[0]
    writer = Session(get_engine(world.url))
    try:
        writer.execute(text("update building set footprint = ST_Translate(footprint, 0, "
                            "0.00003) where id = :id"), {"id": building})
        during = world.get(path, 0)
        assert during.headers["X-Tile-Cache"] == "miss"
        assert world.get(path, 1).headers["X-Tile-Cache"] == "hit"  # still true: not committed
        writer.commit()
    finally:
        writer.close()
    after = world.get(path, 1)
    assert after.headers["X-Tile-Cache"] == "miss"
    assert after.headers["ETag"] != during.headers["ETag"]
    assert world.get(path, 0).headers["X-Tile-Cache"] == "hit"


def test_rows_added_as_an_import_adds_them_invalidate_the_tiles_they_fall_in(world):
    lon, lat, _ = _point(world.url, "select ST_X(c), ST_Y(c), 0 from (select "
                                    "ST_PointOnSurface(geom) c from water limit 1) w")
    path = _tiles("water", lon, lat, [15])[0]
    _prime(world, [path])
    with session_scope(world.url) as session:
        session.execute(text("insert into water (district_code, source, source_id, kind, name,"
                             " geom) select district_code, 'test', 'tile-test', kind, 'new', "
                             "geom from water limit 1"))
    assert world.get(path, 1).headers["X-Tile-Cache"] == "miss"
    assert world.get(path, 1).headers["X-Tile-Cache"] == "hit"


def test_a_grids_households_change_its_community_wherever_the_community_is_drawn(world):
    """A community's tile carries its households, summed over its grids: a grid's change
    reaches the community's tiles beyond the grid's own (the trigger's geometry is the
    community's)."""
    from gridmap.tiles.tilemath import tile_range

    with session_scope(world.url) as session:
        grid, community, lon, lat, box = session.execute(text("""
            select g.id, c.code, ST_X(p), ST_Y(p),
                   array[ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)]
            from grid g join community c on c.code = g.community_code,
                 lateral ST_PointOnSurface(ST_Difference(c.geom, ST_Buffer(g.geom, 0.004))) p,
                 lateral ST_Transform(ST_Envelope(g.geom), 3857) b
            where g.valid_to is null and not ST_IsEmpty(p)
            order by g.code limit 1""")).one()
    z = 17
    x, y = tile_of(lon, lat, z)
    x0, x1, y0, y1 = tile_range(tuple(box), z)
    assert not (x0 <= x <= x1 and y0 <= y <= y1)  # the tile lies beyond the grid's reach
    path = f"/tiles/communities/{z}/{x}/{y}.mvt"
    _prime(world, [path])

    def households() -> int:
        found = [f["properties"]["households"] for f in _features(world.get(path, 1),
                                                                   "communities")
                 if f["properties"]["id"] == community]
        return found[0]
    before = households()
    with session_scope(world.url) as session:
        session.execute(text("update grid set households = households + 7 where id = :id"),
                        {"id": grid})
    assert world.get(path, 1).headers["X-Tile-Cache"] == "miss"
    assert households() == before + 7
