"""QGIS (PyQGIS, headless) reading gridmap's OGC API – Features service as an agency would.

Run by the system's Python, which has Debian's ``python3-qgis`` (gridmap's venv has not),
with a ``HOME`` of its own (QGIS keeps its settings, authentication database and HTTP cache
there):

    HOME=$(mktemp -d) /usr/bin/python3 tests/ogcapi/qgis_driver.py URL KEY PUBLIC KEYED REFUSED

``URL`` is the server's base (``http://127.0.0.1:8000``), ``KEY`` an agency key naming the
``KEYED`` collections (comma-separated) and not ``REFUSED``; ``PUBLIC`` are read without it.
It prints one JSON document of what QGIS saw (the test compares it with PostGIS): the
collections its browser lists without and with the key, every feature of every collection it
may read (id, attributes, geometry as WKT at full precision), and what a bbox, a subset string
and small pages asked of the server. The key travels as QGIS 3.22 can
send it: the password of a connection's user name and password (HTTP Basic), or of an
authentication configuration of method Basic. It never appears in the output.

Nothing here imports gridmap: the system's Python has none of gridmap's dependencies.
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (Qgis, QgsApplication, QgsAuthMethodConfig,  # noqa: E402
                       QgsFeatureRequest, QgsNetworkAccessManager, QgsRectangle, QgsSettings,
                       QgsVectorLayer)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt  # noqa: E402

#: The rectangle of the bbox request (CRS84) and the subset string of the filter request.
BBOX = (114.385, 30.502, 114.395, 30.510)
SUBSET = "\"households\" > 50 AND \"use\" = 'residential'"
PAGE_SIZE = 40

requests: list[dict] = []


def _log_request(request) -> None:
    """Every request QGIS sends: its URL and whether it carried credentials."""
    requests.append({"url": request.url().toString(),
                     "authorization": request.hasRawHeader(b"Authorization")})


def _value(value):
    """A QGIS attribute as JSON: NULL → None, date-times as the clock time QGIS shows."""
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return None
    if isinstance(value, QDateTime):
        return value.toString(Qt.ISODateWithMs)
    if isinstance(value, QDate):
        return value.toString(Qt.ISODate)
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    return value


def _uri(base: str, typename: str, extra: str = "") -> str:
    return f"url='{base}/ogcapi' typename='{typename}' {extra}".strip()


def _read(layer: QgsVectorLayer, request: QgsFeatureRequest | None = None) -> list[dict]:
    names = layer.fields().names()
    return [{"attributes": {n: _value(f[n]) for n in names},
             "wkt": f.geometry().asWkt(17) if f.hasGeometry() else None}
            for f in layer.getFeatures(request or QgsFeatureRequest())]


def _layer_report(layer: QgsVectorLayer) -> dict:
    if not layer.isValid():
        return {"valid": False}
    return {"valid": True, "crs": layer.crs().authid(),
            "geometry_type": layer.geometryType(),
            "fields": {f.name(): f.typeName() for f in layer.fields()},
            "features": _read(layer)}


def _requests_since(start: int) -> list[dict]:
    return requests[start:]


def _browser_listing(base: str, auth: dict[str, str]) -> list[str]:
    """The collections QGIS's browser lists under a saved connection (what a user sees in
    *Add WFS / OGC API – Features Layer*)."""
    settings = QgsSettings()
    name = "gridmap-" + "-".join(sorted(auth)) if auth else "gridmap"
    settings.setValue(f"qgis/connections-wfs/{name}/url", f"{base}/ogcapi")
    settings.setValue(f"qgis/connections-wfs/{name}/version", "OGC_API_FEATURES")
    for k, v in auth.items():
        settings.setValue(f"qgis/WFS/{name}/{k}", v)
    root = QgsApplication.dataItemProviderRegistry().provider("WFS").createDataItem("", None)
    connection = next(c for c in root.createChildren() if c.name() == name)
    listed = []
    for item in connection.createChildren():
        typename = item.uri().split("typename='", 1)[1].split("'", 1)[0]
        listed.append(typename)
    return sorted(listed)


def _basic_authcfg(key: str) -> str:
    """An authentication configuration of method Basic holding the key as its password."""
    manager = QgsApplication.authManager()
    manager.setMasterPassword("gridmap-qgis-test", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName("gridmap agency")
    config.setConfig("username", "agency")
    config.setConfig("password", key)
    manager.storeAuthenticationConfig(config)
    return config.id()


def main(base: str, key: str, public: list[str], keyed: list[str], refused: str) -> dict:
    credentials = f"username='agency' password='{key}'"
    out: dict = {"qgis": Qgis.version(), "collections": {}}
    authcfg = _basic_authcfg(key)
    out["listed"] = {"anonymous": _browser_listing(base, {}),
                     "key": _browser_listing(base, {"authcfg": authcfg})}
    for name in public:
        out["collections"][name] = _layer_report(QgsVectorLayer(_uri(base, name), name,
                                                                "OAPIF"))
    for name in keyed:
        out["collections"][name] = _layer_report(
            QgsVectorLayer(_uri(base, name, credentials), name, "OAPIF"))
    out["refused"] = _layer_report(QgsVectorLayer(_uri(base, refused, credentials), refused,
                                                  "OAPIF"))
    out["anonymous_keyed"] = _layer_report(QgsVectorLayer(_uri(base, keyed[0]), keyed[0],
                                                          "OAPIF"))
    start = len(requests)
    layer = QgsVectorLayer(_uri(base, keyed[0], f"authcfg='{authcfg}'"), "authcfg", "OAPIF")
    out["authcfg"] = {"count": len(_read(layer)) if layer.isValid() else None,
                      "requests": _requests_since(start)}
    # as the browser adds a layer: only the features of the requested rectangle are fetched
    start = len(requests)
    layer = QgsVectorLayer(_uri(base, "buildings", "restrictToRequestBBOX='1'"), "b", "OAPIF")
    found = _read(layer, QgsFeatureRequest().setFilterRect(QgsRectangle(*BBOX)))
    out["bbox"] = {"rectangle": BBOX, "ids": [f["attributes"]["id"] for f in found],
                   "requests": _requests_since(start)}
    start = len(requests)
    layer = QgsVectorLayer(_uri(base, "buildings"), "subset", "OAPIF")
    out["subset"] = {"expression": SUBSET, "accepted": layer.setSubsetString(SUBSET),
                     "ids": [f["attributes"]["id"] for f in _read(layer)],
                     "requests": _requests_since(start)}
    start = len(requests)
    layer = QgsVectorLayer(_uri(base, "buildings", f"pageSize='{PAGE_SIZE}'"), "p", "OAPIF")
    out["paging"] = {"page_size": PAGE_SIZE,
                     "ids": [f["attributes"]["id"] for f in _read(layer)],
                     "requests": _requests_since(start)}
    return out


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit("usage: qgis_driver.py URL KEY PUBLIC,… KEYED,… REFUSED")
    app = QgsApplication([], False)
    app.initQgis()
    QgsNetworkAccessManager.setRequestPreprocessor(_log_request)
    url, secret, public_names, keyed_names, refused_name = sys.argv[1:]
    report = main(url, secret, public_names.split(","), keyed_names.split(","), refused_name)
    json.dump(report, sys.stdout, ensure_ascii=False)
    app.exitQgis()
