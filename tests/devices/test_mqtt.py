"""The MQTT consumer against the real broker: duplicates stored once, the latest event time
wins, malformed and oversized messages counted without stopping it, a restart with the
persistent session loses nothing, two consumers of one group store each message once."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys

from sqlalchemy import text

from gridmap.db import session_scope
from tests.conftest import REPO
from tests.devices.conftest import now, payload, unique
from tests.devices.mqtt_helpers import Running, forget_session, publish, wait_for


def _count(url: str, ids: list[str]) -> int:
    with session_scope(url) as session:
        return session.execute(text("select count(*) from device_telemetry where device_id = "
                                    "any(:ids)"), {"ids": ids}).scalar()


def _rejected(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return dict(session.execute(text("select reason, count from device_rejected")).all())


def test_duplicates_once_and_latest_event_time_wins(database_url, broker, devices):
    (device,) = devices(1)
    root, at = unique("root"), now() - dt.timedelta(minutes=5)
    with Running(database_url, broker, root=root, group=unique("g")) as consumer:
        publish(broker, root, [
            (device, payload("m1", at, readings={"battery": 50})),
            (device, payload("m1", at, readings={"battery": 50})),  # delivered twice
            (device, payload("m3", at + dt.timedelta(seconds=30), readings={"battery": 70})),
            (device, payload("m2", at + dt.timedelta(seconds=10), readings={"battery": 60})),
        ])
        assert wait_for(lambda: consumer.stats.received == 4)
    assert (consumer.stats.stored, consumer.stats.duplicate) == (3, 1)
    assert _count(database_url, [device]) == 3
    with session_scope(database_url) as session:
        state, battery = session.execute(text(
            "select last_state, battery from device where id = :d"), {"d": device}).one()
    assert state["message_id"] == "m3" and battery == 70


def test_malformed_and_oversized_are_counted_and_the_consumer_goes_on(database_url, broker,
                                                                      devices):
    (device,) = devices(1)
    root, at = unique("root"), now()
    before = _rejected(database_url)
    with Running(database_url, broker, root=root, group=unique("g")) as consumer:
        publish(broker, root, [
            (device, b"{not json"),
            (device, json.dumps({"message_id": "big", "event_time": at.isoformat(),
                                 "readings": {"x": 1}, "device_id": device,
                                 "pad": "x" * 9000}).encode()),
            (device, json.dumps({"message_id": "x", "event_time": at.isoformat(),
                                 "device_id": "someone-else"}).encode()),
            (device, json.dumps({"event_time": at.isoformat()}).encode()),
            ("unregistered-" + device, payload("u1", at)),
            (device, payload("fine", at)),
        ])
        assert wait_for(lambda: consumer.stats.received == 6)
    after = _rejected(database_url)
    grew = {reason: after.get(reason, 0) - before.get(reason, 0) for reason in after}
    assert {k: v for k, v in grew.items() if v} == {
        "bad_json": 1, "oversized": 1, "topic_mismatch": 1, "missing_field": 1,
        "unknown_device": 1}
    assert _count(database_url, [device]) == 1


def test_restart_with_the_persistent_session_loses_nothing(database_url, broker, devices):
    ids = devices(5)
    root, group, client_id = unique("root"), unique("g"), unique("consumer")
    at = now() - dt.timedelta(minutes=1)
    try:
        with Running(database_url, broker, root=root, group=group, client_id=client_id):
            pass  # subscribed, then stopped: the broker keeps the session
        publish(broker, root, [(d, payload(f"m{n}", at + dt.timedelta(seconds=n)))
                               for n in range(40) for d in ids])
        assert _count(database_url, ids) == 0
        with Running(database_url, broker, root=root, group=group,
                     client_id=client_id) as consumer:
            assert wait_for(lambda: _count(database_url, ids) == 200)
        assert consumer.stats.stored == 200
    finally:
        forget_session(broker, client_id)


def test_two_consumers_of_one_group_store_each_message_once(database_url, broker, devices):
    ids = devices(10)
    root, group = unique("root"), unique("g")
    at = now() - dt.timedelta(minutes=1)
    with Running(database_url, broker, root=root, group=group) as first, \
            Running(database_url, broker, root=root, group=group) as second:
        publish(broker, root, [(d, payload(f"m{n}", at + dt.timedelta(seconds=n)))
                               for n in range(30) for d in ids])
        assert wait_for(lambda: first.stats.received + second.stats.received == 300)
    assert first.stats.received > 0 and second.stats.received > 0  # the work was shared
    assert first.stats.duplicate + second.stats.duplicate == 0
    assert first.stats.stored + second.stats.stored == 300 == _count(database_url, ids)


def test_the_command_stops_cleanly_on_sigterm(database_url, broker, devices):
    (device,) = devices(1)
    root, group, client_id = unique("root"), unique("g"), unique("consumer")
    env = {**os.environ, "DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "gridmap.cli", "ingest-mqtt", "--group", group,
         "--client-id", client_id, "--topic-root", root, "--session-expiry", "60"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: _subscribed(process), timeout=20)
        publish(broker, root, [(device, payload("m1", now()))])
        assert wait_for(lambda: _count(database_url, [device]) == 1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert "1 stored" in out and "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
        forget_session(broker, client_id)


def _subscribed(process) -> bool:
    """Whether the consumer logged its subscription (read without blocking)."""
    import select

    ready, _, _ = select.select([process.stderr], [], [], 0)
    if ready:
        _subscribed.seen = getattr(_subscribed, "seen", "") + process.stderr.readline()
    return "subscribing" in getattr(_subscribed, "seen", "")


def test_processes_share_the_group_and_end_with_the_parent(database_url, broker, devices,
                                                          tmp_path):
    """``--processes 2``: two consumer processes (client ids ID-1, ID-2) store every message
    once between them; SIGTERM to the parent stops both cleanly, and a parent killed outright
    leaves no consumer behind."""
    ids = devices(6)
    root, group, client_id = unique("root"), unique("g"), unique("consumer")
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "gridmap.cli", "ingest-mqtt", "--group", group,
               "--client-id", client_id, "--topic-root", root, "--session-expiry", "60",
               "--processes", "2"]
    at = now() - dt.timedelta(minutes=1)
    log = tmp_path / "consumers.log"
    with open(log, "w", encoding="utf-8") as err_file:
        parent = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                  stderr=err_file, text=True)
    try:
        assert wait_for(lambda: log.read_text(encoding="utf-8").count("subscribing") == 2,
                        timeout=30)
        publish(broker, root, [(d, payload(f"m{n}", at + dt.timedelta(seconds=n)))
                               for n in range(50) for d in ids])
        assert wait_for(lambda: _count(database_url, ids) == 300, timeout=30)
        parent.send_signal(signal.SIGTERM)
        out, _ = parent.communicate(timeout=30)
        err = log.read_text(encoding="utf-8")
        assert parent.returncode == 0, err
        stored = [int(line.split(" stored")[0].rsplit(" ", 1)[1])
                  for line in out.splitlines() if " stored" in line]
        assert len(stored) == 2 and sum(stored) == 300 and min(stored) > 0, out
        assert f"as {client_id}-1 " in err and f"as {client_id}-2 " in err

        parent = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        assert wait_for(lambda: len(_children(parent.pid)) == 2, timeout=20)
        children = _children(parent.pid)
        parent.kill()
        parent.wait()
        assert wait_for(lambda: not any(_alive(pid) for pid in children), timeout=20)
    finally:
        if parent.poll() is None:
            parent.kill()
        for n in (1, 2):
            forget_session(broker, f"{client_id}-{n}")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
            return [int(p) for p in listing.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] not in "ZX"
    except OSError:
        return False


def test_a_child_whose_parent_is_already_gone_ends_at_once():
    """The parent-death request comes too late when the parent ended before it: the child
    then ends by itself, and otherwise carries on."""
    probe = ("import os, sys; from gridmap.devices.processes import _die_with_parent; "
             "_die_with_parent(int(sys.argv[1])); print('alive')")
    mine = subprocess.run([sys.executable, "-c", probe, str(os.getpid())], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert (mine.returncode, mine.stdout.strip()) == (0, "alive")
    gone = subprocess.run([sys.executable, "-c", probe, "1"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert (gone.returncode, gone.stdout.strip()) == (1, "")
