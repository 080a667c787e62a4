"""The route over HTTP (JSON, GeoJSON, GPX read by GDAL) and on the command line."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gridmap.cli import cli
from gridmap.db import session_scope
from tests.conftest import signed_in
from tests.test_cli import _run
from tests.webapp.signin import csrf_token


@pytest.fixture()
def worker_grid(people) -> str:
    return people["t-worker-a"].scopes[0][1]


def test_worker_gets_todays_route_and_marks_a_stop_done(app, people, worker_grid,
                                                       database_url):
    client = signed_in(app, "t-worker-a")
    if True:
        route = client.get(f"/api/routes/{worker_grid}").get_json()
        assert route["grid"] == worker_grid and route["days"][0]["stops"]
        day = route["days"][0]
        assert [s["seq"] for s in day["stops"]] == list(range(1, len(day["stops"]) + 1))
        assert day["path"]["type"] == "LineString"
        pending = next(s for s in day["stops"] if s["done_at"] is None)
        token = csrf_token(client)
        answer = client.post(f"/api/routes/{worker_grid}/visits", headers={
            "X-CSRFToken": token}, json={"stop": pending["stop"], "lon": pending["lon"],
                                         "lat": pending["lat"], "client_id": "e2e-1"})
        assert answer.status_code == 201, answer.get_json()
        replay = client.post(f"/api/routes/{worker_grid}/visits", headers={
            "X-CSRFToken": token}, json={"stop": pending["stop"], "client_id": "e2e-1"})
        assert replay.status_code == 200 and replay.get_json()["id"] == answer.get_json()["id"]
        after = client.get(f"/api/routes/{worker_grid}").get_json()["days"][0]
        assert after["stops"][0]["stop"] == pending["stop"] and after["stops"][0]["done_at"]
        assert after["done"] >= 1
        listed = client.get(f"/api/routes/{worker_grid}/visits").get_json()["visits"]
        assert answer.get_json()["id"] in [v["id"] for v in listed]
        for url, words in ((f"/api/routes/{worker_grid}?days=0", "days"),
                           (f"/api/routes/{worker_grid}?days=x", "days"),
                           (f"/api/routes/{worker_grid}?date=2026-13-01", "date"),
                           (f"/api/routes/{worker_grid}?date=2000-01-01", "date"),
                           (f"/api/routes/{worker_grid}?format=kml", "format"),
                           (f"/api/routes/{worker_grid}?days=1&days=2", "days")):
            bad = client.get(url)
            assert bad.status_code == 400 and words in bad.get_json()["detail"], url
    with session_scope(database_url) as session:
        session.execute(text("delete from route_visit where client_id = 'e2e-1'"))


def test_gpx_and_geojson_are_read_by_gdal(app, worker_grid, tmp_path):
    client = signed_in(app, "t-admin")
    if True:
        route = client.get(f"/api/routes/{worker_grid}?days=2").get_json()
        gpx = client.get(f"/api/routes/{worker_grid}?days=2&format=gpx")
        geojson = client.get(f"/api/routes/{worker_grid}?days=2&format=geojson")
    stops = sum(len(d["stops"]) for d in route["days"])
    points = sum(len(d["path"]["coordinates"]) for d in route["days"] if d["path"])
    assert gpx.mimetype == "application/gpx+xml"
    assert "attachment" in gpx.headers["Content-Disposition"]
    (tmp_path / "r.gpx").write_bytes(gpx.data)
    (tmp_path / "r.geojson").write_bytes(geojson.data)

    def count(path, layer):
        out = subprocess.run(["ogrinfo", "-ro", "-so", str(path), layer], capture_output=True,
                             text=True, check=True).stdout
        return int(out.split("Feature Count: ")[1].split()[0])
    assert count(tmp_path / "r.gpx", "waypoints") == stops + 1  # and the station
    assert count(tmp_path / "r.gpx", "tracks") == sum(1 for d in route["days"] if d["path"])
    assert count(tmp_path / "r.gpx", "track_points") == points
    assert count(tmp_path / "r.geojson", "r") == 1 + stops + sum(
        1 for d in route["days"] if d["path"])


def test_cli_route_station_and_visit(database_url, worker_grid, tmp_path):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--database-url", database_url, *args])
    shown = run("route", worker_grid)
    assert shown.exit_code == 0, shown.output
    assert f"Route of grid {worker_grid}" in shown.output and "  1  " in shown.output
    out = tmp_path / "week.geojson"
    written = run("route", worker_grid, "--days", "7", "-o", str(out))
    assert written.exit_code == 0, written.output
    features = json.loads(out.read_text())["features"]
    assert {f["properties"]["feature"] for f in features} >= {"station", "path", "stop"}
    assert len({f["properties"]["date"] for f in features if "date" in f["properties"]}) >= 2
    community = worker_grid[:12]
    station = json.loads(run("station", community).output)
    assert station["community"] == community and station["set"]
    for args, words in ((("route", worker_grid, "--date", "tomorrow"), "--date"),
                        (("route", worker_grid, "--days", "99"), "days"),
                        (("route", worker_grid, "-o", str(tmp_path / "r.kml")), ".gpx"),
                        (("route", "nope"), "does not exist"),
                        (("station", community, "--at", "x"), "--at"),
                        (("station", community, "--day-minutes", "60"), "--at"),
                        (("visit", worker_grid, "building:abc"), "stop")):
        result = _run(*args, env={**os.environ, "DATABASE_URL": database_url})
        assert result.returncode == 2 and result.stdout == "", (args, result.stdout)
        line = result.stderr.strip()
        assert words in line and "\n" not in line, (args, result.stderr)
    assert not (tmp_path / "r.kml").exists()
