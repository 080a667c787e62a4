"""Every route × every kind of caller: the status, and no feature outside the caller's scope.

The table below must name every route of ``app.url_map`` (with each method): a new endpoint
fails :func:`test_every_route_is_in_the_table` until its access is declared here, so no
endpoint is ever published without someone deciding who may use it.
"""
from __future__ import annotations

import re

import pytest
import shapely
from sqlalchemy import text

from gridmap.auth import issue_key
from gridmap.auth.scope import Scope
from gridmap.facilities.service import create_facility
from gridmap.incidents.service import report_incident
from gridmap.plans.drafts import DraftGrid, create_draft, plan_version
from gridmap.db import session_scope
from gridmap.devices.registry import DeviceSpec, register_devices
from gridmap.jobs.queue import enqueue
from tests.conftest import REPO, sign_in
from tests.webapp.signin import csrf_token

CALLERS = ("anonymous", "worker_a", "worker_b", "community", "planner", "key_with",
           "key_without", "admin")
PEOPLE = {"worker_a": "t-worker-a", "worker_b": "t-worker-b", "community": "t-community",
          "planner": "t-planner", "admin": "t-admin"}
#: The agency keys: one with the collections the data routes below read, one without.
KEY_COLLECTIONS = {"key_with": ["grids", "buildings", "districts"], "key_without": ["roads"]}


def _row(method, url, endpoint, default, *, body=None, **special):
    """One request (``body``: sent as JSON) and the status each caller must get."""
    statuses = {caller: special.get(caller, default.get(caller)) for caller in CALLERS}
    return pytest.param(method, url, endpoint, statuses, body, id=f"{method} {url}")


def _reader(ok_for_keys=True, **special):
    """A data route: 401 for anonymous callers, 200 for people and for keys with the
    collection, 403 for keys without."""
    base = {"anonymous": 401, "key_with": 200 if ok_for_keys else 403, "key_without": 403,
            **{c: 200 for c in PEOPLE}}
    return {**base, **special}


PERSON = {"anonymous": 302, "key_with": 403, "key_without": 403, **{c: 200 for c in PEOPLE}}
ADMIN_GET = {"anonymous": 302, "key_with": 403, "key_without": 403,
             **{c: 403 for c in PEOPLE}, "admin": 200}
PUBLIC = {c: 200 for c in CALLERS}


def table(codes):
    a, b, community, other_community, building_b, plan, lon, lat = (
        codes["grid_a"], codes["grid_b"], codes["community"], codes["other_community"],
        codes["building_b"], codes["plan"], codes["lon_a"], codes["lat_a"])
    api_person = {**PERSON, "anonymous": 401}
    planners = {**api_person, "worker_a": 403, "worker_b": 403, "community": 403}
    return [
        _row("GET", "/static/gridmap.css", "static", PUBLIC),
        _row("GET", "/api/health", "api.health", PUBLIC),
        _row("GET", "/login", "account.login", PUBLIC),
        # an empty form: refused as a form (400), or read-only keys refused (403)
        _row("POST", "/login", "account.login", {c: 400 for c in CALLERS},
             key_with=403, key_without=403),
        _row("GET", "/", "pages.map_page", PERSON),
        _row("GET", f"/?community={other_community}", "pages.map_page", PERSON,
             worker_a=403, worker_b=403, community=403),
        _row("GET", "/account/password", "account.password", PERSON),
        _row("POST", "/account/password", "account.password",
             {**PERSON, **{c: 400 for c in PEOPLE}}),
        _row("POST", "/account/language", "account.language",
             {**PERSON, **{c: 302 for c in PEOPLE}}),
        _row("POST", "/logout", "account.logout", {**PERSON, **{c: 302 for c in PEOPLE}}),
        _row("GET", "/api/districts", "api.districts", _reader()),
        _row("GET", f"/api/grids?community={community}", "api.grids", _reader()),
        _row("GET", f"/api/grids?community={other_community}", "api.grids",
             _reader(worker_a=403, worker_b=403, community=403)),
        _row("GET", f"/api/grids/{a}", "api.grid", _reader(worker_b=403)),
        _row("GET", f"/api/grids/{b}", "api.grid", _reader(worker_a=403)),
        # the list itself is cut to the key's collections
        _row("GET", "/api/layers", "api.layers", _reader(key_without=200)),
        _row("GET", "/api/layers/grids/features", "api.layer_features", _reader()),
        _row("GET", "/api/layers/buildings/features", "api.layer_features", _reader()),
        _row("GET", "/api/layers/communities/features", "api.layer_features",
             _reader(ok_for_keys=False)),
        _row("GET", "/api/layers/roads/features?limit=5", "api.layer_features",
             _reader(ok_for_keys=False, key_without=200)),
        # label points: cut to the caller's scope like the features (grids outside it leak
        # through no code and no households); a layer without a label has none (404 once
        # the caller may read the layer)
        _row("GET", "/api/layers/grids/labels", "api.layer_labels", _reader()),
        _row("GET", "/api/layers/roads/labels", "api.layer_labels",
             {**_reader(ok_for_keys=False), **{c: 404 for c in PEOPLE}, "key_without": 404}),
        _row("GET", f"/api/layers/grids/features/{a}", "api.layer_feature",
             _reader(worker_b=403)),
        _row("GET", f"/api/layers/buildings/features/{building_b}", "api.layer_feature",
             _reader(worker_a=403)),
        _row("GET", f"/api/export/grids?community={community}&format=gpkg",
             "exports.download", _reader()),
        _row("GET", f"/api/export/grids?community={other_community}", "exports.download",
             _reader(worker_a=403, worker_b=403, community=403)),
        _row("GET", "/api/export/buildings?format=csv&bbox=114.39,30.50,114.40,30.51",
             "exports.download", _reader()),
        _row("GET", "/tiles/buildings/14/13385/6761.mvt", "tiles.tile", _reader()),
        _row("GET", "/tiles/roads/14/13385/6761.mvt", "tiles.tile",
             _reader(ok_for_keys=False, key_without=200)),
        _row("GET", "/tiles/grids.json", "tiles.tilejson", _reader()),
        _row("GET", "/api/export/roads?format=shp", "exports.download",
             _reader(ok_for_keys=False, key_without=200)),
        _row("GET", "/api/export/nope?format=kml", "exports.download",
             {**_reader(), **{c: 404 for c in PEOPLE}, "key_with": 404,
              "key_without": 404}),
        # the web app's export: a link when small, a background job when large; keys read
        # (GET) only. A job's file: who asked, once it is written (queued here: 404 for all)
        _row("POST", f"/api/export/grids?community={community}&format=gpkg", "exports.start",
             api_person),
        _row("POST", f"/api/export/grids?community={other_community}", "exports.start",
             {**api_person, "worker_a": 403, "worker_b": 403, "community": 403}),
        _row("GET", f"/api/export/jobs/{codes['export_job']}/file", "exports.job_file",
             {**api_person, **{c: 404 for c in PEOPLE}}),
        # OGC API – Features: the service's documents are public; a collection not listed in
        # ogcapi_public_collections (none by default) needs a key naming it, or a person
        _row("GET", "/ogcapi", "ogcapi.landing", PUBLIC),
        _row("GET", "/ogcapi/conformance", "ogcapi.conformance", PUBLIC),
        _row("GET", "/ogcapi/api", "ogcapi.openapi", PUBLIC),
        _row("GET", "/ogcapi/collections", "ogcapi.collections", PUBLIC),
        _row("GET", "/ogcapi/collections/grids", "ogcapi.collection", _reader()),
        _row("GET", "/ogcapi/collections/grids/queryables", "ogcapi.queryables", _reader()),
        _row("GET", "/ogcapi/collections/grids/items?limit=500", "ogcapi.items", _reader()),
        _row("GET", "/ogcapi/collections/roads/items", "ogcapi.items",
             _reader(ok_for_keys=False, key_without=200)),
        _row("GET", f"/ogcapi/collections/grids/items/{a}", "ogcapi.item",
             _reader(worker_b=403)),
        _row("GET", f"/ogcapi/collections/grids/items/{b}", "ogcapi.item",
             _reader(worker_a=403)),
        _row("GET", "/api/hierarchy", "hierarchy.root", _reader()),
        _row("GET", f"/api/hierarchy/{community}", "hierarchy.unit", _reader()),
        _row("GET", f"/api/hierarchy/{other_community}", "hierarchy.unit",
             _reader(worker_a=403, worker_b=403, community=403)),
        # community admins manage the people of their community
        _row("GET", "/admin/people", "admin.people", {**ADMIN_GET, "community": 200}),
        _row("POST", "/admin/people", "admin.add", {**ADMIN_GET, "admin": 400,
                                                    "community": 400}),
        _row("POST", "/admin/people/nobody-here/disable", "admin.disable",
             {**ADMIN_GET, "admin": 404, "community": 404}),
        # an administrator is managed by administrators only (demo-admin is not used here)
        _row("POST", "/admin/people/demo-admin/disable", "admin.disable",
             {**ADMIN_GET, "admin": 302, "community": 403}),
        _row("POST", "/admin/people/nobody-here/password", "admin.reset",
             {**ADMIN_GET, "admin": 400, "community": 400}),
        _row("GET", "/admin/keys", "admin.keys", ADMIN_GET),
        _row("POST", "/admin/keys", "admin.add_key", {**ADMIN_GET, "admin": 400}),
        _row("POST", "/admin/keys/999999/revoke", "admin.revoke", {**ADMIN_GET, "admin": 404}),
        _row("GET", "/admin/audit", "admin.audit", ADMIN_GET),
        # the dispatch matrix: administrators only; an empty form is refused on the page
        _row("GET", "/admin/dispatch", "admin.dispatch", ADMIN_GET),
        _row("POST", "/admin/dispatch", "admin.set_dispatch_rule", {**ADMIN_GET, "admin": 400}),
        _row("POST", "/admin/dispatch/remove", "admin.remove_dispatch_rule",
             {**ADMIN_GET, "admin": 400}),
        # plans show every grid of a community: not for its grid workers
        _row("GET", f"/api/plans?community={community}", "plans.plans", api_person,
             worker_a=403, worker_b=403),
        _row("GET", f"/api/plans?community={other_community}", "plans.plans", api_person,
             worker_a=403, worker_b=403, community=403),
        _row("POST", "/api/plans", "plans.create", {**planners, "planner": 400, "admin": 400},
             body={"community": community, "features": []}),
        _row("GET", f"/api/plans/{plan}", "plans.plan", api_person, worker_a=403,
             worker_b=403),
        _row("GET", f"/api/plans/{plan}/export.gpkg", "plans.export", api_person,
             worker_a=403, worker_b=403),
        _row("GET", "/api/plans/999999/export.gpkg", "plans.export",
             {**api_person, **{c: 404 for c in PEOPLE}}),
        _row("POST", "/api/plans/999999/apply", "plans.apply",
             {**api_person, **{c: 404 for c in PEOPLE}}, body={"comment": "x"}),
        _row("POST", f"/api/plans/{plan}/apply", "plans.apply", {**planners, "planner": 400,
                                                                 "admin": 400}, body={}),
        _row("GET", f"/api/grids/{a}/history", "plans.history", _reader(worker_b=403)),
        _row("GET", f"/api/grids?at=2099-01-01&lon={lon}&lat={lat}", "api.grids",
             _reader(worker_b=403)),
        # hand edits: a preview writes nothing; saving makes a draft
        _row("POST", "/api/plans/preview", "editing.preview",
             {**planners, "planner": 200, "admin": 200},
             body={"community": community, "base_version": int(codes["version"]),
                   "edits": []}),
        _row("POST", "/api/plans/edits", "editing.save", {**planners, "planner": 400,
                                                          "admin": 400},
             body={"community": community, "edits": []}),
        _row("POST", "/api/partitions", "plans.partitions",
             {**planners, "planner": 201, "admin": 201}, body={"community": community}),
        _row("POST", "/api/partitions", "plans.partitions",
             {**planners, "planner": 202, "admin": 202}, body={"street": community[:9]}),
        # a job is seen by who asked for it (the planner here) and by administrators
        _row("GET", f"/api/jobs/{codes['job']}", "jobs.job",
             {**api_person, **{c: 404 for c in PEOPLE}, "planner": 200, "admin": 200}),
        # the taxonomy is reference data: every reader, whatever the key's collections
        _row("GET", "/api/event-classes", "incidents.event_classes", _reader(key_without=200)),
        # incidents: seen by whoever reaches their grid (grid B's worker gets 404, never a
        # hint that it exists); reported by roles carrying incident.report, in their grids
        _row("GET", "/api/incidents", "incidents.incidents", api_person),
        _row("GET", f"/api/incidents?grid={b}&open=1", "incidents.incidents", api_person),
        # counts are cut to the caller's grids (no code outside them in the answer)
        _row("GET", f"/api/incidents/counts?unit={community}", "incidents.counts",
             api_person),
        _row("GET", "/api/incidents/counts?unit=x", "incidents.counts",
             {**api_person, **{c: 400 for c in PEOPLE}}),
        _row("POST", "/api/incidents", "incidents.report",
             {**api_person, "worker_a": 201, "worker_b": 403, "community": 201,
              "planner": 403, "admin": 201},
             body={"class": "0401", "lon": float(lon), "lat": float(lat),
                   "description": "route test"}),
        _row("GET", f"/api/incidents/{codes['incident']}", "incidents.incident", api_person,
             worker_b=404),
        _row("POST", f"/api/incidents/{codes['incident']}/actions", "incidents.act",
             {**api_person, **{c: 409 for c in PEOPLE}, "worker_b": 404},
             body={"action": "fly"}),
        # attachments: a form without files is a 400 for whoever reaches the incident
        _row("POST", f"/api/incidents/{codes['incident']}/attachments",
             "incidents.add_attachments",
             {**api_person, **{c: 400 for c in PEOPLE}, "worker_b": 404}),
        _row("GET", f"/api/incidents/{codes['incident']}/attachments/{'0' * 64}",
             "incidents.attachment", {**api_person, **{c: 404 for c in PEOPLE}}),
        # facilities: seen by whoever reaches their grid; every role reaching it may report
        # a state (a bad one here: 400), grid B's worker gets 404
        _row("GET", "/api/component-classes", "facilities.component_classes",
             _reader(key_without=200)),
        _row("GET", "/api/facilities", "facilities.facilities", api_person),
        _row("GET", f"/api/facilities/{codes['facility']}", "facilities.facility", api_person,
             worker_b=404),
        _row("POST", f"/api/facilities/{codes['facility']}/state", "facilities.change_state",
             {**api_person, **{c: 400 for c in PEOPLE}, "worker_b": 404},
             body={"state": "broken"}),
        # a facility's photo: a form without a file is a 400 for whoever reaches it; the
        # test facility has none (404)
        _row("POST", f"/api/facilities/{codes['facility']}/photo", "facilities.upload_photo",
             {**api_person, **{c: 400 for c in PEOPLE}, "worker_b": 404}),
        _row("GET", f"/api/facilities/{codes['facility']}/photo", "facilities.photo",
             {**api_person, **{c: 404 for c in PEOPLE}}),
        # Open311: reading is public; submitting needs an api_key parameter naming open311
        # (none here: 401), and an X-API-Key header is read-only as everywhere (403)
        _row("GET", "/open311/v2/discovery.json", "open311.discovery", PUBLIC),
        _row("GET", "/open311/v2/services.xml", "open311.services", PUBLIC),
        _row("GET", "/open311/v2/services/0401.json", "open311.service", PUBLIC),
        _row("GET", "/open311/v2/requests.json", "open311.requests_", PUBLIC),
        _row("GET", f"/open311/v2/requests/{codes['incident']}.json", "open311.request_",
             PUBLIC),
        _row("POST", "/open311/v2/requests.json", "open311.submit",
             {**{c: 401 for c in CALLERS}, "key_with": 403, "key_without": 403}),
        # device telemetry: the api_key travels in the JSON body (none here: 401); an
        # X-API-Key header is read-only as everywhere (403)
        _row("POST", "/api/devices/telemetry", "devices.telemetry",
             {**{c: 401 for c in CALLERS}, "key_with": 403, "key_without": 403},
             body={"messages": []}),
        # devices: seen by whoever reaches their grid; keys need the devices collection
        _row("GET", "/api/devices", "devices.devices", _reader(ok_for_keys=False)),
        _row("GET", f"/api/devices/{codes['device']}", "devices.device",
             _reader(ok_for_keys=False, worker_b=404)),
        # inspection routes: a grid's route and visits for whoever reaches the grid; grid
        # workers, community admins and administrators record visits (a bad stop here:
        # 400), planners may not (403)
        _row("GET", f"/api/routes/{a}", "routes.route", api_person, worker_b=404),
        _row("GET", f"/api/routes/{a}?format=gpx", "routes.route", api_person, worker_b=404),
        _row("GET", f"/api/routes/{a}/visits", "routes.visits", api_person, worker_b=404),
        _row("POST", f"/api/routes/{a}/visits", "routes.visit",
             {**api_person, **{c: 400 for c in PEOPLE}, "worker_b": 404, "planner": 403},
             body={"stop": "house:1"}),
        # a community's station: seen by whoever sees the community; placed by its community
        # admin and administrators (a point far outside it here: 400)
        _row("GET", f"/api/communities/{community}/station", "routes.station", api_person),
        _row("GET", f"/api/communities/{other_community}/station", "routes.station",
             api_person, worker_a=404, worker_b=404, community=404),
        _row("PUT", f"/api/communities/{community}/station", "routes.place_station",
             {**api_person, **{c: 403 for c in PEOPLE}, "community": 400, "admin": 400},
             body={"lon": 100.0, "lat": 30.0}),
    ]


@pytest.fixture(scope="module")
def codes(database_url, people) -> dict[str, str]:
    a = people["t-worker-a"].scopes[0][1]
    b = people["t-worker-b"].scopes[0][1]
    with session_scope(database_url) as session:
        community, lon, lat = session.execute(text(
            "select community_code, ST_X(ST_PointOnSurface(geom)), "
            "ST_Y(ST_PointOnSurface(geom)) from grid where code = :a"), {"a": a}).one()
        grids = session.execute(text(
            "select kind, ST_AsBinary(geom) from grid where community_code = :c "
            "and valid_to is null"), {"c": community}).all()
        plan = create_draft(session, community, [
            DraftGrid(kind, shapely.from_wkb(bytes(wkb))) for kind, wkb in grids],
            title="route test", source="test").id
        other = session.execute(text(
            "select code from community where code <> :c order by code limit 1"),
            {"c": community}).scalar_one()
        building_b = session.execute(text(
            "select b.id from building b join grid g on g.id = b.grid_id where g.code = :b "
            "order by b.id limit 1"), {"b": b}).scalar_one()
        incident = report_incident(session, Scope.for_person("t-admin", "administrator", ()),
                                   class_code="0401", lon=lon, lat=lat,
                                   description="route test").id
        facility = create_facility(session, Scope.for_person("t-admin", "administrator", ()),
                                   class_code="0111", lon=lon, lat=lat)
        version = plan_version(session, community).version
        register_devices(session, [DeviceSpec("route-test-device", "smoke_sensor", "route test",
                                               lon, lat)], data_dir=str(REPO / "data"),
                         update=True)
    return {"grid_a": a, "grid_b": b, "community": community, "other_community": other,
            "incident": str(incident), "facility": facility.id, "device": "route-test-device",
            "building_b": str(building_b), "plan": str(plan), "lon_a": f"{lon:.7f}",
            "version": str(version),
            "lat_a": f"{lat:.7f}",
            "job": str(enqueue(database_url, "assign_district", requested_by="person:t-planner",
                               district="420111")),
            "export_job": str(enqueue(database_url, "export_layer",
                                      requested_by="person:t-planner",
                                      request={"layer": "grids", "format": "gpkg"}))}


@pytest.fixture(scope="module")
def keys(database_url) -> dict[str, str]:
    with session_scope(database_url) as session:
        return {caller: issue_key(session, f"route test {caller}", names).secret
                for caller, names in KEY_COLLECTIONS.items()}


@pytest.fixture(scope="module")
def reach(database_url, people) -> dict[str, set[str] | None]:
    """Grid codes each caller may see; None for every grid."""
    grids, households = {}, {}
    with session_scope(database_url) as session:
        for caller, login in PEOPLE.items():
            person = people[login]
            if person.role == "administrator":
                grids[caller] = None
                continue
            (level, code), = person.scopes
            column = {"grid": "code", "community": "community_code",
                      "street": "street_code"}[level]
            grids[caller] = set(session.execute(text(
                f"select code from grid where {column} = :c"), {"c": code}).scalars())
            households[caller] = session.execute(text(
                f"select coalesce(sum(households), 0) from grid where {column} = :c "
                f"and valid_to is null"), {"c": code}).scalar()
    return {**grids, "anonymous": set(), "key_with": None, "key_without": None,
            "households": households}


def _client(app, caller, keys):
    client = app.test_client()
    headers = {}
    if caller in PEOPLE:
        sign_in(client, PEOPLE[caller])
    elif caller in keys:
        headers["X-API-Key"] = keys[caller]
    return client, headers


ALL_GRIDS = re.compile(r'"(\d{15})"')
HOUSEHOLDS = re.compile(r'"households":\s*(\d+)')


def _rows_for_collection():
    """The table with placeholder codes, only to parametrize by; filled in by ``codes``."""
    fake = {k: "0" for k in ("grid_a", "grid_b", "community", "other_community",
                             "building_b", "plan", "lon_a", "lat_a", "job", "incident", "export_job",
                             "facility", "version", "device")}
    return table(fake)


def _answer_text(response, folder) -> str:
    """The answer as text to look for codes and totals in; a GeoPackage or a zipped
    Shapefile as its rows in JSON (codes are strings there, as in the API's answers)."""
    suffixes = {"application/geopackage+sqlite3": ".gpkg", "application/zip": ".zip"}
    if response.mimetype == "application/vnd.mapbox-vector-tile":  # the features' properties
        import json

        import mapbox_vector_tile

        decoded = mapbox_vector_tile.decode(response.get_data()) if response.get_data() else {}
        return json.dumps([f["properties"] for layer in decoded.values()
                           for f in layer["features"]], ensure_ascii=False)
    if response.mimetype not in suffixes:
        return response.get_data(as_text=True)
    import json
    import zipfile

    import pyogrio

    path = folder / f"answer{suffixes[response.mimetype]}"
    path.write_bytes(response.get_data())
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            shp = next(n for n in archive.namelist() if n.endswith(".shp"))
        path = f"/vsizip/{path}/{shp}"
    frame = pyogrio.read_dataframe(path, read_geometry=False)
    return json.dumps(frame.astype(object).where(frame.notna(), None).to_dict("records"),
                      default=int)


@pytest.mark.parametrize("index", range(len(_rows_for_collection())))
def test_route_by_caller(app, codes, keys, reach, people, index, tmp_path):
    method, url, endpoint, statuses, body = table(codes)[index].values
    for caller in CALLERS:
        client, headers = _client(app, caller, keys)
        data = None
        if method in ("POST", "PUT") and caller not in keys:
            token = csrf_token(client)
            if body is None:
                data = {"csrf_token": token}
            else:
                headers["X-CSRFToken"] = token
        extra = {"json": body} if body is not None else {"data": data}
        response = client.open(url, method=method, headers=headers, **extra)
        assert response.status_code == statuses[caller], \
            f"{caller}: {method} {url} → {response.status_code}: {response.get_data(True)[-500:]}"
        answer = _answer_text(response, tmp_path)
        if response.status_code >= 400 and url.startswith(("/api", "/tiles")):
            assert set(response.get_json()) == {"error", "detail"}
        allowed = reach[caller]
        if allowed is not None and response.status_code == 200:
            leaked = set(ALL_GRIDS.findall(answer)) - allowed
            assert not leaked, f"{caller} got grids outside their scope: {sorted(leaked)[:5]}"
            # no total (of a community, a street, a plan's grid) counts more households than
            # the caller's own grids hold
            ceiling = reach["households"].get(caller, 0)
            counted = [int(n) for n in HOUSEHOLDS.findall(answer)]
            assert all(n <= ceiling for n in counted), \
                f"{caller} was told of {max(counted)} households; their grids hold {ceiling}"


def test_every_route_is_in_the_table(app):
    tabled = {(p.values[2], p.values[0]) for p in _rows_for_collection()}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert (rule.endpoint, method) in tabled, \
                f"{method} {rule.rule} ({rule.endpoint}) has no row in the route table"


def test_every_view_declares_its_access(app):
    from webapp.auth import rule_of

    for rule in app.url_map.iter_rules():
        assert rule_of(app, rule.endpoint) is not None, f"{rule.endpoint} declares no access"
