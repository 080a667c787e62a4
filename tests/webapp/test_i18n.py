"""The interface's language: zh-CN by default, English by Accept-Language or by the switch
(kept in the session), API errors in the request's language, the JavaScript's catalogue
complete, layer titles per locale."""
from __future__ import annotations

import json
import re

import pytest

from gridmap.i18n import LOCALES
from tests.conftest import REPO

BAD_BBOX = "/api/layers/grids/features?bbox=x"


@pytest.fixture()
def browser(app, people):
    """A client that sends no Accept-Language (the suite's clients ask for English), signed
    in as the administrator (the map needs a person)."""
    from tests.conftest import sign_in

    test_client = app.test_client()
    test_client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")
    sign_in(test_client, "t-admin")
    return test_client


def _embedded(page: str) -> dict:
    """The scripts' catalogue the page carries as JSON data."""
    found = re.search(r'<script id="i18n-catalogue" type="application/json">(.*?)</script>',
                      page)
    return json.loads(found.group(1))


def _page(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_page_is_chinese_by_default(browser):
    page = _page(browser.get("/"))
    assert '<html lang="zh-CN"' in page and "点击网格查看详情" in page and "图层" in page
    assert "<p class=\"hint\">点击网格查看详情</p>" in page
    assert _embedded(page)["Choose a district"] == "请选择区"


def test_page_in_english_by_accept_language(browser):
    page = _page(browser.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert '<html lang="en"' in page and "Tap a grid for its details" in page
    assert "点击网格" not in page
    assert _embedded(page)["Choose a district"] == "Choose a district"


def test_switch_is_kept_on_the_next_request(browser):
    page = _page(browser.get("/?lang=en"))
    assert "Tap a grid for its details" in page
    later = _page(browser.get("/", headers={"Accept-Language": "zh-CN"}))
    assert "Tap a grid for its details" in later  # the switch wins over the browser
    back = _page(browser.get("/?lang=zh-CN"))
    assert "点击网格查看详情" in back


def test_every_page_has_the_switch_keeping_the_view(browser):
    page = _page(browser.get("/?map=16/30.5/114.3"))
    assert '<span lang="zh-CN" aria-current="true">中文</span>' in page
    links = re.findall(r'<a href="/\?([^"]+)" hreflang="([^"]+)"', page)
    assert links == [("map=16%2F30.5%2F114.3&amp;lang=en", "en")]
    error = browser.get("/?map=nonsense")  # an error page is a page too
    assert error.status_code == 400 and 'hreflang="en"' in error.get_data(as_text=True)


@pytest.mark.parametrize("headers, error, detail", [
    ({}, "输入无效", "bbox 'x'：应为四个数 minlon,minlat,maxlon,maxlat"),
    ({"Accept-Language": "zh-CN,zh;q=0.9"}, "输入无效",
     "bbox 'x'：应为四个数 minlon,minlat,maxlon,maxlat"),
    ({"Accept-Language": "en-US,en;q=0.9"}, "invalid input",
     "bbox 'x': expected four numbers minlon,minlat,maxlon,maxlat"),
])
def test_api_error_in_the_request_language(browser, headers, error, detail):
    response = browser.get(BAD_BBOX, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"error": error, "detail": detail}


def test_werkzeug_errors_are_translated_too(browser):
    body = browser.get("/api/no/such/path").get_json()
    assert body == {"error": "未找到", "detail": "/api/no/such/path 没有 API 接口；图层列表见 "
                                                 "/api/layers"}
    body = browser.post("/api/layers", headers={"Accept-Language": "en"}).get_json()
    assert body["error"] == "method not allowed" and "POST is not allowed" in body["detail"]


def test_error_page_in_both_languages(browser):
    zh = browser.get("/?map=nonsense").get_data(as_text=True)
    assert "400 · 输入无效" in zh and "返回地图" in zh
    en = browser.get("/?map=nonsense&lang=en").get_data(as_text=True)
    assert "400 · invalid input" in en and "Back to the map" in en


def test_layer_titles_and_labels_per_locale(browser):
    zh = {d["name"]: d for d in browser.get("/api/layers").get_json()}
    en = {d["name"]: d for d in browser.get("/api/layers",
                                            headers={"Accept-Language": "en"}).get_json()}
    assert (zh["grids"]["title"], en["grids"]["title"]) == ("责任网格", "Grids")
    labels = {f["name"]: f["label"] for f in zh["grids"]["fields"]}
    assert labels["households"] == "户数" and labels["code"] == "网格编码"
    assert zh["grids"]["label"]["variants"]["residential"][0] == "{name}\n{code}\n{households} 户"
    assert en["grids"]["label"]["variants"]["residential"][0] == \
        "{name}\n{code}\n{households} hh"
    # The map's own copy (the page's config) speaks the page's language too.
    page = browser.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    config = json.loads(re.search(r'id="map-config" type="application/json">(.*?)</script>',
                                  page).group(1))
    assert [d["title"] for d in config["layers"] if d["name"] == "grids"] == ["Grids"]


def _js_keys() -> set[str]:
    keys = set()
    for path in (REPO / "webapp" / "static" / "js").glob("*.js"):
        keys |= set(re.findall(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', path.read_text(encoding="utf-8")))
    return keys


@pytest.mark.parametrize("locale", LOCALES)
def test_javascript_catalogue_is_complete(browser, locale):
    """Every t("…") of the page scripts is in the exported catalogue the page loads."""
    keys = _js_keys()
    assert "Choose a district" in keys and len(keys) > 10
    response = browser.get(f"/static/i18n/{locale}.json")
    assert response.status_code == 200
    exported = response.get_json()
    missing = sorted(k for k in keys if not exported.get(k))
    assert missing == []
    if locale == "zh_CN":
        assert exported["Choose a district"] == "请选择区"
    # What the page embeds is that catalogue.
    tag = {"zh_CN": "zh-CN", "en": "en"}[locale]
    page = browser.get(f"/?lang={tag}").get_data(as_text=True)
    assert _embedded(page) == exported
