"""``gridmap ingest-mqtt``: the MQTT consumer of device telemetry.

- **MQTT 5, QoS 1, persistent session**: the client connects with ``clean_start=False`` and a
  session expiry interval under a stable client id, so the broker keeps its subscription and
  queues the messages published while it is down, and delivers them when it returns.
- **Shared subscription** ``$share/{group}/gridmap/devices/+/telemetry``: several consumers of
  one group share the messages (each goes to one of them), so consumers scale out without
  doing the same work twice; messages delivered twice anyway (a redelivery after a crash) are
  stored once (:mod:`gridmap.devices.telemetry`).
- **Batches, acknowledged after commit**: a batch is ``batch_size`` messages, or fewer once the
  oldest has waited ``batch_ms`` since it was received
  (:class:`~gridmap.devices.batching.BatchWindow`); it is stored by one
  :func:`~gridmap.devices.telemetry.ingest_batch` and committed, and only then is each message
  acknowledged (paho's manual acknowledgement). A crash before the commit leaves them
  unacknowledged, and the broker delivers them again.
- **Never stopped by a message**: a malformed one is rejected, logged and counted. A database
  failure keeps the batch (unacknowledged) and retries it with backoff; a broker that does not
  answer is one line and a retry with backoff.
- **Offline alarms**: every ``offline_check_s`` (0: never) the consumer raises the offline alarm of
  devices silent for too long (:func:`gridmap.devices.alarms.check_offline`); with several
  consumers the alarm table's unique index keeps it to one incident.

SIGTERM and SIGINT (:meth:`TelemetryConsumer.stop`) end the loop cleanly: the current batch
is committed and acknowledged, then the client disconnects (its session stays on the broker).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from gridmap.db import Timeouts, session_scope, user_error_in
from gridmap.devices.batching import BatchWindow
from gridmap.devices.telemetry import IncomingMessage, ingest_batch

log = logging.getLogger("gridmap.devices")
TOPIC_ROOT = "gridmap/devices"
MAX_BACKOFF_S = 30.0
POLL_S = 0.2  # longest wait for messages before looking at the stop flag again


def telemetry_topic(device_id: str, root: str = TOPIC_ROOT) -> str:
    """The topic a device publishes its telemetry to."""
    return f"{root}/{device_id}/telemetry"


def broker_address(url: str) -> tuple[str, int]:
    """``(host, port)`` of an ``mqtt://HOST:PORT`` URL (port 1883 by default)."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


@dataclass
class ConsumerStats:
    """What a consumer did: messages by outcome, batches committed, alarms checked."""

    received: int = 0
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0
    batches: int = 0
    offline_raised: int = 0
    errors: list[str] = field(default_factory=list)


class TelemetryConsumer:
    """One consumer process's loop (see the module docstring)."""

    def __init__(self, *, database_url: str, settings: Mapping[str, Any], group: str,
                 client_id: str, url: str | None = None, topic_root: str = TOPIC_ROOT,
                 batch_size: int = 500, batch_ms: int = 50, session_expiry_s: int = 86400,
                 offline_check_s: float = 60.0) -> None:
        self.database_url = database_url
        self.settings = settings
        self.url = url or settings["mqtt_url"]
        self.group = group
        self.client_id = client_id
        self.topic_root = topic_root
        self.batch_size = batch_size
        self.batch_ms = batch_ms
        self.window = BatchWindow(batch_size, batch_ms / 1000)
        self.session_expiry_s = session_expiry_s
        self.offline_check_s = offline_check_s
        self.stats = ConsumerStats()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        # (received, message) pairs, appended by paho's network thread, taken by the loop
        self._pending: deque[tuple[float, mqtt.MQTTMessage]] = deque()
        self._arrived = threading.Condition()
        self._timeouts = Timeouts.batch(settings)
        self._client = self._make_client()

    @property
    def subscription(self) -> str:
        return f"$share/{self.group}/{self.topic_root}/+/telemetry"

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.reconnect_delay_set(1, int(MAX_BACKOFF_S))
        return client

    # -- the network thread's callbacks --------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker at %s refused the connection: %s", self.url, reason_code)
            return
        log.info("connected to %s as %s (session %s); subscribing to %s", self.url,
                 self.client_id, "resumed" if flags.session_present else "new",
                 self.subscription)
        client.subscribe(self.subscription, options=SubscribeOptions(qos=1))
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.subscribed.clear()
        if not self._stop.is_set():
            log.warning("disconnected from the MQTT broker at %s (%s); reconnecting", self.url,
                        reason_code)

    def _on_message(self, client, userdata, message) -> None:
        with self._arrived:
            self._pending.append((time.monotonic(), message))
            if len(self._pending) == 1 or len(self._pending) >= self.batch_size:
                self._arrived.notify()  # a first message starts a window; a full batch ends it

    # -- the main loop -------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the loop to end after the current batch (safe from a signal handler)."""
        self._stop.set()

    def _connect(self) -> bool:
        """Connect, retrying with backoff while the broker does not answer; False when asked
        to stop meanwhile."""
        host, port = broker_address(self.url)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry_s
        properties.ReceiveMaximum = 65535  # acknowledgements wait for the commit
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._client.connect(host, port, keepalive=30, clean_start=False,
                                     properties=properties)
                return True
            except OSError as exc:
                log.error("no MQTT broker answers at %s (%s); retrying in %.0f s", self.url,
                          exc.strerror or exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
        return False

    def run(self, *, max_seconds: float | None = None) -> ConsumerStats:
        """Consume until :meth:`stop` (or for ``max_seconds``); return the stats."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        if not self._connect():
            return self.stats
        self._client.loop_start()
        next_check = time.monotonic() + self.offline_check_s
        try:
            while not self._stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                batch = self._collect()
                if batch:
                    self._store(batch)
                if self.offline_check_s and time.monotonic() >= next_check:
                    self._check_offline()
                    next_check = time.monotonic() + self.offline_check_s
            # stopping: what was received before the stop is stored and acknowledged too
            batch = self._drain()
            if batch:
                self._store(batch)
        finally:
            self._stop.set()  # a disconnect of ours, not one to report
            self._client.disconnect()
            self._client.loop_stop()
        return self.stats

    def _collect(self) -> list:
        """The next batch, as soon as the waiting messages make one
        (:class:`~gridmap.devices.batching.BatchWindow`); [] after :data:`POLL_S` without
        one, to look at the stop flag."""
        until = time.monotonic() + POLL_S
        with self._arrived:
            while True:
                now = time.monotonic()
                wait = self.window.wait(self._pending, now)
                if wait == 0:
                    return self.window.take(self._pending)
                if now >= until or self._stop.is_set():
                    return []
                self._arrived.wait(min(until - now, POLL_S if wait is None else wait))

    def _drain(self) -> list:
        with self._arrived:
            return [message for _, message in
                    (self._pending.popleft() for _ in range(len(self._pending)))]

    def _device_of(self, topic: str) -> str:
        prefix, suffix = self.topic_root + "/", "/telemetry"
        if topic.startswith(prefix) and topic.endswith(suffix):
            return topic[len(prefix):-len(suffix)]
        return ""

    def _store(self, batch: list) -> None:
        """Store and commit the batch, then acknowledge it; on a database failure, retry
        with backoff (the messages stay unacknowledged meanwhile)."""
        incoming = [IncomingMessage(m.payload, self._device_of(m.topic)) for m in batch]
        delay = 0.5
        while True:
            try:
                with session_scope(self.database_url, timeouts=self._timeouts) as session:
                    result = ingest_batch(
                        session, incoming, max_bytes=self.settings["device_message_max_bytes"],
                        low_battery_percent=self.settings["device_low_battery_percent"],
                        data_dir=self.settings["data_dir"])
                break
            except Exception as exc:  # noqa: BLE001 — a batch is never dropped, only retried
                meaning = user_error_in(exc)
                text = str(meaning) if meaning else f"{type(exc).__name__}: {exc}"
                first_line = text.strip().splitlines()[0] if text.strip() else text
                log.error("storing a batch of %d messages failed (%s); retrying in %.1f s",
                          len(batch), first_line, delay)
                self.stats.errors.append(first_line)
                if self._stop.wait(delay) and meaning is not None:
                    return  # stopping and the database is away: the broker keeps them
                delay = min(delay * 2, MAX_BACKOFF_S)
        for message in batch:
            self._client.ack(message.mid, message.qos)
        counts = result.counts()
        self.stats.received += len(batch)
        self.stats.stored += counts["stored"]
        self.stats.duplicate += counts["duplicate"]
        self.stats.rejected += counts["rejected"]
        self.stats.batches += 1

    def _check_offline(self) -> None:
        from gridmap.devices.alarms import check_offline

        try:
            with session_scope(self.database_url, timeouts=self._timeouts) as session:
                found = check_offline(session, now=dt.datetime.now(dt.timezone.utc),
                                      offline_minutes=self.settings["device_offline_minutes"],
                                      data_dir=self.settings["data_dir"])
        except Exception as exc:  # noqa: BLE001 — the next check tries again
            meaning = user_error_in(exc)
            log.error("the offline check failed: %s", meaning or f"{type(exc).__name__}: {exc}")
            return
        if found:
            log.info("%d device(s) offline: %s", len(found), ", ".join(found[:10]))
        self.stats.offline_raised += len(found)
