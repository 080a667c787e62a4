"""Attachments: real JPEG, PNG and HEIC photos accepted by their content and stored under
their SHA-256; a lying name, a non-image, an oversized file or a bad declared checksum
refused with nothing written; a damaged blob reported on read (503), never served; a report
with a refused photo leaves no incident (over HTTP)."""
from __future__ import annotations

import io

import pytest
from PIL import Image
import pillow_heif
from sqlalchemy import func, select, text

from gridmap.errors import InvalidInput, NotFound, TooLarge, UnsupportedMedia
from gridmap.incidents.attachments import Upload, attach, check_upload, read_attachment
from gridmap.models import Incident, IncidentAttachment
from gridmap.storage import DirectoryStorage, StorageDamaged, sha256_of
from tests.conftest import sign_in
from tests.incidents.test_incidents import inside, report
from tests.webapp.signin import csrf_token

pillow_heif.register_heif_opener()


def photo(fmt: str, colour=(200, 120, 40), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt, name, media", [("JPEG", "IMG_0001.JPG", "image/jpeg"),
                                              ("PNG", "screen.png", "image/png"),
                                              ("HEIF", "IMG_0002.HEIC", "image/heic"),
                                              ("JPEG", None, "image/jpeg")])
def test_photos_are_recognised_by_content(fmt, name, media):
    assert check_upload(Upload(name, photo(fmt)), max_bytes=10**6) == media


@pytest.mark.parametrize("upload, error, problem", [
    (Upload("photo.png", photo("JPEG")), UnsupportedMedia, "named .png but holds image/jpeg"),
    (Upload("photo.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"), UnsupportedMedia,
     "expected a JPEG, PNG or HEIC image"),
    (Upload("notes.txt", b"just text"), UnsupportedMedia, "no known file type"),
    (Upload("big.jpg", photo("JPEG", size=(800, 600)) + b"\0" * 4000), TooLarge,
     "at most 4,000 are accepted"),
    (Upload("empty.jpg", b""), InvalidInput, "is empty"),
    (Upload("p.jpg", photo("JPEG"), "0" * 64), InvalidInput, "damaged on the way"),
])
def test_bad_uploads_are_refused(upload, error, problem):
    with pytest.raises(error, match=problem):
        check_upload(upload, max_bytes=4000)


def test_attach_stores_by_sha_and_reads_back_verified(db, grids, roles, tmp_path):
    store = DirectoryStorage(tmp_path)
    incident = report(db, roles["worker_a"], *inside(grids[0]))
    data = photo("JPEG")
    rows = attach(db, store, roles["worker_a"], incident.id,
                  [Upload("a.jpg", data, sha256_of(data)), Upload("b.png", photo("PNG"))],
                  max_bytes=10**6)
    assert [r.media_type for r in rows] == ["image/jpeg", "image/png"]
    assert (tmp_path / rows[0].sha256[:2] / rows[0].sha256[2:4] / rows[0].sha256).exists()
    row, back = read_attachment(db, store, roles["worker_a"], incident.id, rows[0].sha256)
    assert back == data and row.filename == "a.jpg"
    with pytest.raises(NotFound):  # outside the caller's scope: as if it did not exist
        read_attachment(db, store, roles["worker_b"], incident.id, rows[0].sha256)
    path = tmp_path / rows[0].sha256[:2] / rows[0].sha256[2:4] / rows[0].sha256
    path.write_bytes(data[:-1] + b"\x00")
    with pytest.raises(StorageDamaged) as caught:
        read_attachment(db, store, roles["worker_a"], incident.id, rows[0].sha256)
    assert caught.value.status == 503


def test_one_bad_file_stores_none(db, grids, roles, tmp_path):
    store = DirectoryStorage(tmp_path)
    incident = report(db, roles["worker_a"], *inside(grids[0]))
    with pytest.raises(UnsupportedMedia):
        attach(db, store, roles["worker_a"], incident.id,
               [Upload("ok.jpg", photo("JPEG")), Upload("bad.png", photo("JPEG"))],
               max_bytes=10**6)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing stored
    assert db.scalar(select(func.count()).select_from(IncidentAttachment)
                     .where(IncidentAttachment.incident_id == incident.id)) == 0


def test_a_report_with_a_refused_photo_leaves_no_incident(app, people, db, tmp_path):
    app.config["GRIDMAP"] = {**app.config["GRIDMAP"], "attachments_dir": str(tmp_path)}
    client = app.test_client()
    sign_in(client, "t-worker-a")
    grid = people["t-worker-a"].scopes[0][1]
    lon, lat = db.execute(text("select ST_X(ST_PointOnSurface(geom)), "
                               "ST_Y(ST_PointOnSurface(geom)) from grid where code = :c"),
                          {"c": grid}).one()
    before = db.scalar(select(func.count()).select_from(Incident))
    form = {"class": "0101", "lon": repr(lon), "lat": repr(lat), "description": "垃圾",
            "photo": (io.BytesIO(photo("JPEG")), "lying.png")}
    refused = client.post("/api/incidents", data=form, content_type="multipart/form-data",
                          headers={"X-CSRFToken": csrf_token(client)})
    assert refused.status_code == 415 and set(refused.get_json()) == {"error", "detail"}
    assert db.scalar(select(func.count()).select_from(Incident)) == before
    form["photo"] = (io.BytesIO(photo("JPEG")), "fine.jpg")
    made = client.post("/api/incidents", data=form, content_type="multipart/form-data",
                       headers={"X-CSRFToken": csrf_token(client)})
    assert made.status_code == 201, made.get_data(True)
    shown = made.get_json()
    assert [a["media_type"] for a in shown["attachments"]] == ["image/jpeg"]
    got = client.get(f"/api/incidents/{shown['id']}/attachments/"
                     f"{shown['attachments'][0]['sha256']}")
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert got.data == photo("JPEG")
