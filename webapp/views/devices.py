"""Devices over HTTP: ``POST /api/devices/telemetry`` (a batch from a device gateway) and the
registry read back (``GET /api/devices``, ``GET /api/devices/<id>``).

Posting telemetry follows Open311's pattern: the request carries its own credential, the
``api_key`` of a key that names the ``devices`` service (an ``X-API-Key`` header stays
read-only, as everywhere), so no session and no CSRF token is involved. The batch goes through
the same function as MQTT (:func:`gridmap.devices.telemetry.ingest_batch`) and is answered per
message: ``stored``, ``duplicate`` or ``rejected`` with the reason.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from gridmap.audit import Actor, acting_as
from gridmap.auth.keys import service_key
from gridmap.devices.registry import describe_device, describe_devices
from gridmap.devices.telemetry import IncomingMessage, ingest_batch
from gridmap.errors import Forbidden, InvalidInput, TooLarge
from gridmap.i18n import msg
from webapp import params
from webapp.auth import access, caller_scope, credential_in_body
from webapp.database import get_session

bp = Blueprint("devices", __name__, url_prefix="/api")
MAX_BATCH = 1000
LAYER = "devices"


def _envelope() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(msg("expected a JSON object {{\"api_key\": …, \"messages\": [...]}} "
                               "with Content-Type application/json"))
    return body


def _messages(body: dict) -> list:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInput(msg("messages: expected a non-empty list of messages"))
    if len(messages) > MAX_BATCH:
        raise TooLarge(msg("{count} messages in one batch: expected at most {limit}",
                           count=len(messages), limit=MAX_BATCH))
    return messages


@bp.post("/devices/telemetry")
@access("public")
@credential_in_body
def telemetry():
    """``{"api_key": KEY, "messages": [{"device_id", "message_id", "event_time", …}]}`` →
    ``{"results": [{"status": …}], "stored": n, "duplicate": n, "rejected": n}``."""
    session = get_session()
    body = _envelope()
    key_text = body.get("api_key")
    key = service_key(session, key_text if isinstance(key_text, str) else "", "devices")
    messages = _messages(body)
    settings = current_app.config["GRIDMAP"]
    with acting_as(Actor("api_key", f"{key.agency} ({key.prefix})", request.remote_addr)):
        batch = ingest_batch(session, [IncomingMessage(m) for m in messages],
                             max_bytes=settings["device_message_max_bytes"],
                             low_battery_percent=settings["device_low_battery_percent"],
                             data_dir=settings["data_dir"])
    session.commit()
    counts = batch.counts()
    return jsonify({"results": batch.results, "stored": counts["stored"],
                    "duplicate": counts["duplicate"], "rejected": counts["rejected"]})


def _scope():
    scope = caller_scope()
    if not scope.allows_collection(LAYER):
        raise Forbidden(msg("this key does not name the collection {name}", name=LAYER))
    return scope


@bp.get("/devices")
@access("reader")
def devices():
    """``?status=active|retired&limit=…``: the devices in the caller's grids, by id."""
    return jsonify({"devices": describe_devices(get_session(), _scope(),
                                                status=params.single("status"),
                                                limit=params.limit())})


@bp.get("/devices/<device_id>")
@access("reader")
def device(device_id: str):
    """One device with its open alarms (404 when it lies outside the caller's grids)."""
    return jsonify(describe_device(get_session(), _scope(), device_id))
