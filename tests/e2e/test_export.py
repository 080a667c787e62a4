"""Exporting from the map: the export form of the panel downloads a small export at once and
runs a large one as a background job — its progress shown while a real ``gridmap worker``
writes it — then downloads the file; both files hold every feature of the area shown.
Screenshots of the form at 1280×800 (job waiting) and 800×1280 are kept as artefacts."""
from __future__ import annotations

import os
import subprocess
import sys

import pyogrio
import pytest
from sqlalchemy import text

from gridmap.db import session_scope
from tests.e2e.mapdriver import open_map

pytestmark = pytest.mark.e2e

COMMUNITY = "420111002015"


def _count(database_url: str, sql: str, **values) -> int:
    with session_scope(database_url) as session:
        return session.execute(text(sql), values).scalar()


def _form(page, layer: str, fmt: str, crs: str = "") -> None:
    page.click("#export summary")
    page.select_option("#export-form select[name=layer]", layer)
    page.select_option("#export-form select[name=format]", fmt)
    page.select_option("#export-form select[name=crs]", crs)


def test_export_from_the_map_small_at_once_large_as_a_job(tablet, server, two_districts,
                                                          export_dir, artifacts, tmp_path):
    open_map(tablet, server, f"?community={COMMUNITY}")
    _form(tablet, "grids", "gpkg", "EPSG:4490")
    assert tablet.inner_text("#export-form .export-area").startswith("范围")
    with tablet.expect_download() as small:
        tablet.click("#export-form button[type=submit]")
    path = tmp_path / "grids.gpkg"
    small.value.save_as(path)
    grids = _count(two_districts, "select count(*) from grid where valid_to is null and "
                   "community_code = :c", c=COMMUNITY)
    info = pyogrio.read_info(path)
    assert small.value.suggested_filename == "grids.gpkg"
    assert info["features"] == grids > 1 and info["crs"] == "EPSG:4490"

    # the whole district's buildings: more than the direct limit, so a job
    open_map(tablet, server, "?district=420111")
    _form(tablet, "buildings", "shp")
    tablet.click("#export-form button[type=submit]")
    tablet.locator("#export-form .export-status", has_text="等待后台任务进程").wait_for()
    assert tablet.is_visible("#export-form progress")
    tablet.screenshot(path=str(artifacts / "export-job-1280x800.png"))
    box = tablet.locator("#export-form select[name=crs]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 300  # inside the side panel
    with tablet.expect_download(timeout=120_000) as large:
        worker = subprocess.run([sys.executable, "-m", "gridmap.cli", "worker", "--once"],
                                env={**os.environ, "DATABASE_URL": two_districts,
                                     "GRIDMAP_EXPORT_DIR": str(export_dir)},
                                capture_output=True, text=True, timeout=300)
        assert worker.returncode == 0, worker.stderr
    assert large.value.suggested_filename == "buildings.zip"
    zipped = tmp_path / "buildings.zip"
    large.value.save_as(zipped)
    buildings = _count(two_districts, "select count(*) from building where "
                       "district_code = '420111'")
    assert pyogrio.read_info(f"/vsizip/{zipped}/buildings.shp")["features"] == buildings
    status = tablet.inner_text("#export-form .export-status")
    assert "已导出" in status, status
    assert tablet.is_hidden("#export-form progress")


def test_export_form_in_portrait(portrait, server, artifacts):
    open_map(portrait, server, f"?community={COMMUNITY}")
    if portrait.is_visible("#app.sheet-closed"):  # the bottom sheet starts closed
        portrait.click("#panel-toggle")
    portrait.click("#export summary")
    options = portrait.eval_on_selector_all("#export-form select[name=layer] option",
                                            "els => els.map(e => e.value)")
    assert {"grids", "buildings", "facilities"} <= set(options)
    portrait.locator("#export-form button[type=submit]").scroll_into_view_if_needed()
    box = portrait.locator("#export-form select[name=crs]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 800  # no wider than the sheet
    portrait.screenshot(path=str(artifacts / "export-form-800x1280.png"))
