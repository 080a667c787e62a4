"""Open311 GeoReport v2 against a real server, with a plain HTTP client following the spec
(urllib, form-encoded POST): discovery, services, a request created with a key and read
back in JSON and XML as it moves from open to closed, and the spec's error form for a bad
key, a key without the service, an address without coordinates and an unknown service."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from gridmap.auth import issue_key
from gridmap.auth.scope import Scope
from gridmap.config import REPO_ROOT
from gridmap.db import session_scope
from gridmap.incidents.calendar import load_calendar
from gridmap.incidents.service import advance_incident


ENGLISH = {"Accept-Language": "en"}  # the messages below are matched in English


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=ENGLISH),
                                    timeout=30) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get_content_type(), err.read()


def _post(url: str, form: dict) -> tuple[int, bytes]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=ENGLISH),
                                    timeout=30) as a:
            return a.status, a.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture(scope="module")
def open311(served, database_url):
    with session_scope(database_url) as session:
        lon, lat = session.execute(text(
            "select ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) from grid "
            "where valid_to is null and kind = 'residential' order by code limit 1")).one()
        keys = {"open311": issue_key(session, "市民热线 App", ["open311"]).secret,
                "reader": issue_key(session, "规划局", None).secret}
    return {"base": f"http://127.0.0.1:{served}/open311/v2", "lon": lon, "lat": lat, **keys}


def test_discovery_and_services(open311):
    status, kind, body = _get(open311["base"] + "/discovery.json")
    assert status == 200 and kind == "application/json"
    assert json.loads(body)["endpoints"][0]["specification"].endswith("GeoReport_v2")
    status, kind, body = _get(open311["base"] + "/services.xml")
    assert status == 200 and kind == "text/xml"
    codes = [s.findtext("service_code") for s in ET.fromstring(body).iter("service")]
    assert "0401" in codes and len(codes) == 33  # 30 + the device alarms' 0508–0510
    services = json.loads(_get(open311["base"] + "/services.json")[2])
    assert {"service_code", "service_name", "metadata", "type", "group"} <= set(services[0])
    assert json.loads(_get(open311["base"] + "/services/0401.json")[2]) == \
        {"service_code": "0401", "attributes": []}


def test_a_request_is_created_and_followed_until_closed(open311, database_url):
    status, body = _post(open311["base"] + "/requests.json", {
        "api_key": open311["open311"], "service_code": "0101", "lat": repr(open311["lat"]),
        "long": repr(open311["lon"]), "description": "路口暴露垃圾",
        "email": "citizen@example.org"})
    assert status == 200, body
    (created,) = json.loads(body)
    number = created["service_request_id"]
    status, _, body = _get(f"{open311['base']}/requests/{number}.json")
    (request,) = json.loads(body)
    assert (request["status"], request["service_code"], request["description"]) == \
        ("open", "0101", "路口暴露垃圾")
    assert request["status_notes"].startswith("reported")
    assert abs(request["lat"] - open311["lat"]) < 1e-9
    # the case moves through its stages inside gridmap…
    admin = Scope.for_person("t-admin", "administrator", ())
    calendar = load_calendar({"data_dir": str(REPO_ROOT / "data"),
                              "working_hours": "08:30-12:00,14:00-17:30",
                              "timezone": "Asia/Shanghai"})
    with session_scope(database_url) as session:
        for action in ("register", "dispatch", "handle", "verify", "close"):
            advance_incident(session, admin, int(number), action, calendar=calendar)
    # …and the Open311 client sees it closed, in XML too
    status, kind, body = _get(f"{open311['base']}/requests/{number}.xml")
    element = ET.fromstring(body).find("request")
    assert status == 200 and kind == "text/xml"
    assert element.findtext("status") == "closed"
    assert element.findtext("status_notes").startswith("closed")
    assert element.findtext("agency_responsible")
    listed = json.loads(_get(f"{open311['base']}/requests.json?service_request_id={number}"
                             f"&status=closed")[2])
    assert [r["service_request_id"] for r in listed] == [number]
    assert json.loads(_get(f"{open311['base']}/requests.json?service_request_id={number}"
                           f"&status=open")[2]) == []


@pytest.mark.parametrize("form, status, problem", [
    ({"api_key": "gm_nothing"}, 401, ""),
    ({"api_key": "reader"}, 403, "does not name the open311 service"),
    ({"service_code": "0101", "address_string": "珞喻路 1037 号"}, 400,
     "an address alone cannot be placed"),
    ({"service_code": "9999", "lat": "30.5", "long": "114.4"}, 400, "service_code '9999'"),
    ({"service_code": "0101", "lat": "91", "long": "114.4"}, 400, "lat '91'"),
])
def test_refusals_take_the_specs_form(open311, form, status, problem):
    fields = {"api_key": "open311", **form}
    fields["api_key"] = open311.get(fields["api_key"], fields["api_key"])
    for fmt in ("json", "xml"):
        code, body = _post(f"{open311['base']}/requests.{fmt}", fields)
        assert code == status
        if fmt == "json":
            (error,) = json.loads(body)
            assert error["code"] == status and problem in error["description"]
        else:
            error = ET.fromstring(body).find("error")
            assert error.findtext("code") == str(status)
            assert problem in error.findtext("description")


def test_bad_query_parameters_are_400s(open311):
    for query in ("status=pending", "start_date=yesterday", "service_request_id=1;2"):
        status, _, body = _get(f"{open311['base']}/requests.json?{query}")
        assert status == 400 and json.loads(body)[0]["code"] == 400
