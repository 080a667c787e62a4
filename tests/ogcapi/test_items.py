"""The service over HTTP (Flask's client on the real app and database): documents, items
pages, paging, bbox, CRSs, property and datetime filters, negotiation, access, errors."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
import shapely
from hypothesis import given, settings, strategies as st
from pyproj import Transformer
from sqlalchemy import text

from gridmap.db import session_scope
from layers import load_layers
from tests.ogcapi.conftest import PREFIX, PUBLIC, items_url

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _all_pages(client, url: str) -> list[dict]:
    """Every feature, following ``next`` links from ``url``."""
    features = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(True)
        page = response.get_json()
        assert page["numberReturned"] == len(page["features"])
        features += page["features"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    return features


def test_landing_conformance_and_openapi(ogc):
    landing = ogc.get("/ogcapi").get_json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    classes = ogc.get("/ogcapi/conformance").get_json()["conformsTo"]
    for wanted in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-2/1.0/conf/crs",
                   "ogcapi-features-3/1.0/conf/filter", "cql2/1.0/conf/cql2-text",
                   "cql2/1.0/conf/cql2-json"):
        assert any(c.endswith(wanted) for c in classes), wanted
    api = ogc.get("/ogcapi/api")
    assert api.mimetype == "application/vnd.oai.openapi+json"
    document = api.get_json()
    assert document["openapi"].startswith("3.0")
    names = {p["name"] for p in document["paths"]["/collections/buildings/items"]["get"][
        "parameters"]}
    assert {"bbox", "limit", "crs", "bbox-crs", "datetime", "filter", "filter-lang",
            "households"} <= names


def test_every_layer_is_a_collection_with_extent_and_queryables(ogc, keys):
    layers = load_layers()
    listed = ogc.get(f"{PREFIX}", headers={"X-API-Key": keys["facilities"]}).get_json()
    ids = [c["id"] for c in listed["collections"]]
    assert set(ids) == set(PUBLIC.split(",")) | {"facilities"}
    anonymous = [c["id"] for c in ogc.get(PREFIX).get_json()["collections"]]
    assert set(anonymous) == set(PUBLIC.split(","))
    for c in listed["collections"]:
        x0, y0, x1, y1 = c["extent"]["spatial"]["bbox"][0]
        assert x0 <= x1 and y0 <= y1
        assert "http://www.opengis.net/def/crs/EPSG/0/4547" in c["crs"]  # Wuhan's zone (114°E)
        schema = ogc.get(f"{PREFIX}/{c['id']}/queryables",
                         headers={"X-API-Key": keys["facilities"]}).get_json()
        assert set(schema["properties"]) - {"geometry"} <= \
            {f["name"] for f in layers[c["id"]].fields}
    incidents = next(c for c in listed["collections"] if c["id"] == "incidents")
    assert incidents["extent"]["temporal"]["interval"][0][0] is not None


@settings(max_examples=12)
@given(limit=st.integers(1, 60), layer=st.sampled_from(["buildings", "grids", "roads"]))
def test_paging_yields_each_feature_exactly_once(database_url, limit, layer):
    from webapp import create_app

    client = create_app({"database_url": database_url,
                         "ogcapi_public_collections": PUBLIC}).test_client()
    ids = [f["id"] for f in _all_pages(client, items_url(layer, limit=str(limit)))]
    definition = load_layers()[layer]
    with session_scope(database_url) as session:
        want = list(session.execute(text(
            f"select {definition.id_column} from {definition.table} t "
            f"where {definition.where} order by 1")).scalars())
    assert ids == want and len(set(ids)) == len(ids)


@pytest.fixture(scope="module")
def footprints(database_url):
    with session_scope(database_url) as session:
        return {r.id: shapely.from_wkb(r.wkb) for r in session.execute(text(
            "select id, ST_AsBinary(footprint) as wkb from building"))}


@settings(max_examples=15)
@given(x=st.floats(114.380, 114.405), y=st.floats(30.500, 30.514),
       w=st.floats(0.0005, 0.01), h=st.floats(0.0005, 0.01))
def test_bbox_results_equal_a_shapely_oracle(database_url, footprints, x, y, w, h):
    from webapp import create_app

    client = create_app({"database_url": database_url,
                         "ogcapi_public_collections": PUBLIC}).test_client()
    box = shapely.box(x, y, x + w, y + h)
    want = sorted(i for i, g in footprints.items() if g.intersects(box))
    got = [f["id"] for f in _all_pages(client, items_url(
        "buildings", bbox=f"{x!r},{y!r},{x + w!r},{y + h!r}", limit="10000"))]
    assert got == want
    # the same box as EPSG:4490 (lat/lon) and in the Gauss–Krüger zone (northing/easting)
    flipped = f"{y!r},{x!r},{y + h!r},{x + w!r}"
    assert [f["id"] for f in _all_pages(client, items_url(
        "buildings", bbox=flipped, limit="10000", **{"bbox-crs": EPSG + "4490"}))] == want


def test_output_crs_axis_order_and_content_crs(ogc):
    plain = ogc.get(items_url("buildings", limit="3"))
    assert plain.headers["Content-Crs"] == f"<{CRS84}>"
    assert plain.mimetype == "application/geo+json"
    lonlat = [f["geometry"]["coordinates"][0][0][0] for f in plain.get_json()["features"]]
    as_4490 = ogc.get(items_url("buildings", limit="3", crs=EPSG + "4490"))
    assert as_4490.headers["Content-Crs"] == f"<{EPSG}4490>"
    latlon = [f["geometry"]["coordinates"][0][0][0] for f in as_4490.get_json()["features"]]
    assert [[b, a] for a, b in lonlat] == latlon  # EPSG:4490 is latitude first
    to_gk = Transformer.from_crs(4490, 4547, always_xy=True)
    gk = ogc.get(items_url("buildings", limit="3", crs=EPSG + "4547")).get_json()
    for geographic, feature in zip(plain.get_json()["features"], gk["features"]):
        # northing first; snap-rounding may start a ring at another vertex: compare shapes
        projected = shapely.transform(shapely.geometry.shape(feature["geometry"]),
                                      lambda c: c[:, ::-1])
        expected = shapely.transform(shapely.geometry.shape(geographic["geometry"]),
                                     lambda c: list(zip(*to_gk.transform(c[:, 0], c[:, 1]))))
        assert projected.hausdorff_distance(expected) < 0.05
    mercator = ogc.get(items_url("buildings", limit="1", crs=EPSG + "3857")).get_json()
    x, y = mercator["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 12_700_000 < x < 12_800_000 and 3_500_000 < y < 3_600_000  # easting first
    one = ogc.get(f"{PREFIX}/buildings/items/{plain.get_json()['features'][0]['id']}"
                  f"?crs={EPSG}4490")
    assert one.headers["Content-Crs"] == f"<{EPSG}4490>"
    assert one.get_json()["geometry"]["coordinates"][0][0][0] == latlon[0]


def test_property_datetime_and_cql2_filters(ogc, database_url):
    with session_scope(database_url) as session:
        residential = set(session.execute(text(
            "select id from building where use = 'residential' and households > 100"))
            .scalars())
        reported = session.execute(text("select min(reported_at) from incident")).scalar()
        later = set(session.execute(text(
            "select id from incident where reported_at >= :t"), {"t": reported}).scalars())
    by_property = _all_pages(ogc, items_url("buildings", use="residential",
                                            filter="households > 100", limit="1000"))
    assert {f["id"] for f in by_property} == residential and residential
    both = {"op": "and", "args": [{"op": "=", "args": [{"property": "use"}, "residential"]},
                                  {"op": ">", "args": [{"property": "households"}, 100]}]}
    by_json = _all_pages(ogc, items_url("buildings", **{"filter-lang": "cql2-json"},
                                        filter=json.dumps(both)))
    assert {f["id"] for f in by_json} == residential
    dated = _all_pages(ogc, items_url("incidents", datetime=f"{reported.isoformat()}/..",
                                      limit="1000"))
    assert {f["id"] for f in dated} == later and later
    assert _all_pages(ogc, items_url("incidents", datetime="1990-01-01/1990-12-31")) == []


def test_datetime_without_offset_is_the_configured_zones(ogc, database_url):
    """A date-time without an offset, and a day, are the ``timezone`` setting's (the day the
    people of the place mean), not UTC's."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(ogc.application.config["GRIDMAP"]["timezone"])
    with session_scope(database_url) as session:
        ident, reported = session.execute(text(
            "select id, reported_at from incident order by id limit 1")).one()
        local = reported.astimezone(zone)
        same_day = set(session.execute(text(
            "select id from incident where reported_at >= :a and reported_at < :b"),
            {"a": local.replace(hour=0, minute=0, second=0, microsecond=0),
             "b": local.replace(hour=0, minute=0, second=0, microsecond=0)
             + dt.timedelta(days=1)}).scalars())
    at = local.replace(tzinfo=None).isoformat()
    assert [f["id"] for f in _all_pages(ogc, items_url("incidents", datetime=at))] == [ident]
    day = _all_pages(ogc, items_url("incidents", datetime=local.date().isoformat(),
                                    limit="1000"))
    assert {f["id"] for f in day} == same_day and ident in same_day


@pytest.mark.parametrize("url, status, words", [
    (items_url("buildings", limit="10001"), 400, "limit"),
    (items_url("buildings", bbox="114.4,30.5,114.3,30.6"), 400, "bbox"),
    (items_url("buildings", bbox="114.38,30.50,114.39,30.51",
               **{"bbox-crs": EPSG + "4490"}), 400, "outside"),
    (items_url("buildings", crs=EPSG + "2000"), 400, "crs"),
    (items_url("buildings", filter="nosuch = 1"), 400, "unknown property 'nosuch'"),
    (items_url("buildings", filter="households = 'x'"), 400, "households is integer"),
    (items_url("buildings", filter="name = 'x'; delete from building"), 400, "filter"),
    (items_url("buildings", **{"filter-lang": "sql"}, filter="1=1"), 400, "filter-lang"),
    (items_url("buildings", households="many"), 400, "households"),
    (items_url("buildings", colour="red"), 400, "parameter 'colour'"),
    (items_url("buildings", datetime="2026-01-01"), 400, "datetime"),
    (items_url("buildings", after="x"), 400, "after"),
    (items_url("buildings", f="xml"), 400, "f 'xml'"),
    (items_url("nosuch"), 404, "nosuch"),
    (f"{PREFIX}/buildings/items/999999999", 404, "999999999"),
    (f"{PREFIX}/buildings/items/abc", 404, "abc"),
    ("/ogcapi/nothing", 404, "/ogcapi/collections"),
    (items_url("facilities"), 401, "X-API-Key"),
    (items_url("devices"), 401, "X-API-Key"),
])
def test_bad_requests_answer_error_and_detail(ogc, url, status, words):
    response = ogc.get(url)
    assert response.status_code == status, response.get_data(True)
    body = response.get_json()
    assert set(body) == {"error", "detail"} and words in body["detail"], body


def test_html_by_negotiation(ogc):
    assert ogc.get("/ogcapi", headers={"Accept": "text/html"}).mimetype == "text/html"
    assert ogc.get("/ogcapi?f=html").mimetype == "text/html"
    assert ogc.get("/ogcapi", headers={"Accept": "*/*"}).mimetype == "application/json"
    page = ogc.get(items_url("buildings", limit="2"), headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.mimetype == "text/html" and "<table>" in page.get_data(True)
    assert ogc.get(items_url("buildings", limit="2", f="json"),
                   headers={"Accept": "text/html"}).mimetype == "application/geo+json"


def _audit_lines(database_url, prefix: str) -> int:
    with session_scope(database_url) as session:
        return session.execute(text(
            "select count(*) from audit_event where table_name = 'ogcapi' and actor like :p"),
            {"p": f"%({prefix})"}).scalar()


def test_keys_read_their_collections_only_and_each_request_is_audited(ogc, keys,
                                                                      database_url):
    key = keys["facilities"]
    before = _audit_lines(database_url, key[:12])
    assert ogc.get(items_url("facilities", limit="5"),
                   headers={"X-API-Key": key}).status_code == 200
    assert ogc.get(items_url("buildings", limit="5"),  # public: a key reads it too
                   headers={"X-API-Key": key}).status_code == 200
    denied = ogc.get(items_url("devices"), headers={"X-API-Key": key})
    assert denied.status_code == 403 and "devices" in denied.get_json()["detail"]
    assert _audit_lines(database_url, key[:12]) == before + 3
    assert ogc.get(items_url("roads"), headers={"X-API-Key": keys["roads"]}).status_code == 200
    for bad in (keys["revoked"], "gmk_" + "x" * 43, "nonsense"):
        refused = ogc.get(items_url("roads"), headers={"X-API-Key": bad})
        assert refused.status_code == 401 and set(refused.get_json()) == {"error", "detail"}


def test_a_person_reads_only_their_grids(app, people):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, "t-worker-a")
    grids = _all_pages(client, items_url("grids", limit="100"))
    mine = people["t-worker-a"].scopes[0][1]
    assert [g["id"] for g in grids] == [mine]
    assert re.fullmatch(r"\d{15}", mine)


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_a_key_as_the_password_of_basic_credentials_reads_its_collections(ogc, keys):
    """QGIS 3.22 cannot add an X-API-Key header: its connections sign in with a user name and
    a password (sent as HTTP Basic), so the key is taken from there too."""
    key = keys["facilities"]
    for user in ("agency", "", "机构"):
        assert ogc.get(items_url("facilities", limit="2"),
                       headers=_basic(user, key)).status_code == 200
    assert ogc.get(items_url("devices"), headers=_basic("agency", key)).status_code == 403
    for bad in (keys["revoked"], "gmk_" + "x" * 43, "gmk_short"):
        refused = ogc.get(items_url("roads"), headers=_basic("agency", bad))
        assert refused.status_code == 401 and set(refused.get_json()) == {"error", "detail"}


def test_basic_credentials_without_a_key_are_someone_elses(app, people):
    """A password without the key's prefix (a proxy's in front of gridmap, a browser's) is
    left alone: no key, and a signed-in person stays that person."""
    from tests.conftest import sign_in

    client = app.test_client()
    proxy = _basic("staff", "proxy-password")
    assert client.get(items_url("facilities"), headers=proxy).status_code == 401
    sign_in(client, "t-worker-a")
    grids = client.get(items_url("grids", limit="100"), headers=proxy)
    assert grids.status_code == 200
    assert [g["id"] for g in grids.get_json()["features"]] == [people["t-worker-a"].scopes[0][1]]


def test_a_401_challenges_for_basic_credentials(ogc):
    """RFC 9110: a 401 names a scheme; QGIS asks its user for credentials when it sees one."""
    for headers in ({}, {"X-API-Key": "nonsense"}, _basic("agency", "nonsense")):
        refused = ogc.get(items_url("facilities"), headers=headers)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith('Basic realm="gridmap OGC API"')
    assert "WWW-Authenticate" not in ogc.get(items_url("buildings", limit="1")).headers


def test_times_are_written_in_the_timezone_setting_with_its_offset(ogc, database_url):
    """The same instants as the database's, written at UTC+8 (the ``timezone`` setting,
    Asia/Shanghai): QGIS 3.22 drops the offset and shows the clock time as written."""
    with session_scope(database_url) as session:
        want = dict(session.execute(text("select id, reported_at from incident")).all())
    features = _all_pages(ogc, items_url("incidents", limit="1000"))
    assert len(features) == len(want) and want
    for f in features:
        written = f["properties"]["reported_at"]
        assert written.endswith("+08:00"), written
        assert dt.datetime.fromisoformat(written) == want[f["id"]]
    one = ogc.get(f"{PREFIX}/incidents/items/{features[0]['id']}").get_json()
    assert one["properties"]["reported_at"] == features[0]["properties"]["reported_at"]


def test_no_answer_is_stored_and_each_says_what_it_depends_on(ogc, keys):
    """What a caller sees depends on who asks: caches must not keep it (QGIS's disk cache
    ignores Vary and no-cache, and gave a key-less connection's listing to the keyed one)."""
    headers = {"X-API-Key": keys["facilities"]}
    for url in ("/ogcapi", "/ogcapi/conformance", "/ogcapi/api", PREFIX,
                f"{PREFIX}/facilities", f"{PREFIX}/facilities/queryables",
                items_url("facilities", limit="1"), items_url("buildings", f="html")):
        for sent in (headers, {}):
            response = ogc.get(url, headers=sent)
            assert response.headers["Cache-Control"] == "no-store", (url, sent)
            assert {"x-api-key", "authorization", "cookie"} <= \
                {v.strip().lower() for v in response.headers["Vary"].split(",")}, (url, sent)
