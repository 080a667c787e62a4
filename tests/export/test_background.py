"""Large web exports run as background jobs: ``POST /api/export/<layer>`` answers a small
export with its download address and a large one with a job that a real ``gridmap worker``
runs; the file is given to the person who asked, cut to their scope as it is when the job
runs; old files are removed; a bad request enqueues nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pyogrio
from sqlalchemy import text

from gridmap.auth import disable_person
from gridmap.db import session_scope
from gridmap.export.background import job_folder, remove_expired
from gridmap.jobs.progress import job_status
from tests.conftest import signed_in
from tests.webapp.signin import csrf_token

COMMUNITY = "420111002015"


def _app(database_url, export_dir, direct_max):
    from webapp import create_app

    app = create_app({"database_url": database_url, "export_dir": str(export_dir),
                      "export_direct_max_features": direct_max})
    app.config["TESTING"] = True
    return app


def _post(client, query):
    return client.post(f"/api/export/{query}", headers={"X-CSRFToken": csrf_token(client)})


def _worker(database_url, export_dir) -> None:
    done = subprocess.run([sys.executable, "-m", "gridmap.cli", "worker", "--once"],
                          env={**os.environ, "DATABASE_URL": database_url,
                               "GRIDMAP_EXPORT_DIR": str(export_dir)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def _jobs(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("select count(*) from job_progress")).scalar()


def test_a_small_export_is_a_link_and_a_large_one_a_job(database_url, engine, people,
                                                        tmp_path):
    small = signed_in(_app(database_url, tmp_path, 100_000), "t-planner")
    answer = _post(small, f"buildings?format=gpkg&community={COMMUNITY}")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["download"].startswith("/api/export/buildings?") and body["count"] > 1
    direct = small.get(body["download"])
    assert direct.status_code == 200
    assert int(direct.headers["X-Feature-Count"]) == body["count"]

    app = _app(database_url, tmp_path, 1)
    planner = signed_in(app, "t-planner")
    started = _post(planner, f"buildings?format=shp&crs=EPSG:4547&community={COMMUNITY}")
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert job["count"] == body["count"]
    waiting = planner.get(job["file"])
    assert waiting.status_code == 404 and "not finished" in waiting.get_json()["detail"]

    _worker(database_url, tmp_path)
    status = planner.get(job["status"]).get_json()
    assert status["status"] == "succeeded", status
    assert status["done"] == status["total"] == body["count"]
    got = planner.get(job["file"])
    assert got.status_code == 200
    assert got.headers["Content-Disposition"] == "attachment; filename=buildings.zip"
    assert got.headers["Content-Crs"].endswith("/EPSG/0/4547>")
    path = tmp_path / "got.zip"
    path.write_bytes(got.get_data())
    info = pyogrio.read_info(f"/vsizip/{path}/buildings.shp")
    assert info["features"] == body["count"] and info["crs"] == "EPSG:4547"

    # another person never sees that the job exists; an administrator may fetch it
    assert signed_in(app, "t-worker-a").get(job["file"]).status_code == 404
    assert signed_in(app, "t-admin").get(job["file"]).status_code == 200


def test_the_job_is_cut_to_the_scope_its_person_has_when_it_runs(database_url, people,
                                                                 tmp_path):
    app = _app(database_url, tmp_path, 0)
    worker = signed_in(app, "t-worker-a")
    job = _post(worker, "buildings?format=geojson").get_json()
    assert "job" in job, job
    _worker(database_url, tmp_path)
    got = worker.get(job["file"])
    path = tmp_path / "mine.geojson"
    path.write_bytes(got.get_data())
    frame = pyogrio.read_dataframe(path)
    grid_a = people["t-worker-a"].scopes[0][1]
    assert len(frame) == job["count"] > 0 and set(frame["grid_code"]) == {grid_a}


def test_a_person_disabled_before_the_job_runs_gets_nothing(database_url, people, tmp_path):
    from gridmap.auth import add_person
    from gridmap.config import load_settings

    with session_scope(database_url) as session:
        add_person(session, "t-export-leaver", role="planner", password="a long secret 1",
                   scopes=people["t-planner"].scopes,
                   settings=load_settings({"database_url": database_url}))
    app = _app(database_url, tmp_path, 0)
    leaver = signed_in(app, "t-export-leaver")
    job = _post(leaver, f"grids?community={COMMUNITY}").get_json()
    with session_scope(database_url) as session:
        disable_person(session, "t-export-leaver")
    _worker(database_url, tmp_path)
    status = job_status(database_url, job["job"])
    assert status["status"] == "failed" and "may no longer act" in status["error"]
    assert not job_folder(tmp_path, job["job"]).exists()


def test_a_bad_request_enqueues_nothing(database_url, engine, people, tmp_path):
    planner = signed_in(_app(database_url, tmp_path, 0), "t-planner")
    before = _jobs(engine)
    for query, expected in (("grids?format=dwg", "expected one of geojson"),
                            ("grids?format=kml&crs=EPSG:3857", "EPSG:4326 only"),
                            ("nope", "grids"),
                            ("grids?community=420111002199", "not loaded"),
                            ("grids?community=420111001001", "outside")):
        answer = _post(planner, query)
        assert answer.status_code in (400, 403, 404), (query, answer.status_code)
        assert expected in answer.get_json()["detail"], (query, answer.get_json())
    assert _jobs(engine) == before


def test_files_older_than_the_keeping_time_are_removed(tmp_path):
    old, new = job_folder(tmp_path, 1), job_folder(tmp_path, 2)
    for folder in (old, new):
        folder.mkdir()
        (folder / "grids.gpkg").write_bytes(b"x")
    (tmp_path / "not-a-job").mkdir()
    hours_ago = time.time() - 25 * 3600
    os.utime(old, (hours_ago, hours_ago))
    assert remove_expired(tmp_path, 24) == 1
    assert not old.exists() and new.exists() and (tmp_path / "not-a-job").exists()
    assert remove_expired(tmp_path / "absent", 24) == 0
