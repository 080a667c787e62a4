"""Benchmark: device telemetry over MQTT into PostGIS (`gridmap ingest-mqtt`), beside a plain
subscriber (`mosquitto_sub`) on the same broker in the same run.

The broker is a Mosquitto of its own, started from ``config/mosquitto/gridmap.conf`` on a
free port (so the run never disturbs a broker in use, and the queue limits are gridmap's).
1,000 simulated devices are registered with ``gridmap device import`` in the database
``$BENCH_MQTT_DATABASE_URL`` (default ``…/gridmap_bench_mqtt``), made afresh at every run
with the demo loaded, for its grids and taxonomies.

Run A — reliability and lag. 60,000 publishes at a steady rate (``--rate``, default
5,000/s), each device from its own ``mosquitto_pub`` connection: 57,000 distinct messages (57 per device, event times one second apart), 3,000 of
them published a second time (5 % duplicates), and 5 % of the messages swapped with their
device's next one (out-of-order event times). 50 smoke sensors raise a smoke alarm for ten
messages and clear it. At 40 % of the run the consumer is killed (SIGKILL) and started again
two seconds later with the same client id (its persistent session keeps what arrives
meanwhile). Every message carries its publish time (``readings.sent``); the lag of a message is
its row's ``stored_at`` minus that time. Messages published during the outage and until the
outage's backlog is written, and those not yet stored when the consumer was killed, are "the
restart" and left out of the lag figures. The peer is a
``mosquitto_sub`` subscribed to the same topics during the same run: the broker's own
delivery lag to a client that stores nothing.

Run B — capacity. With the consumer stopped, 60,000 new messages are published into its
persistent session; the consumer is started and the rate is the rows stored per second
between the first and the last row. The peer drains the same number of messages from its own
persistent session (``mosquitto_sub -c``), timed between its first and last message.

Checks (reported as figures beside the expected value): rows stored = distinct messages
(nothing lost, nothing stored twice), every device's state = its latest event time's, one
incident per smoke alarm.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Figure, spread, write_figures  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
GRIDMAP = [sys.executable, "-m", "gridmap.cli"]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gridmap_bench_mqtt"
DEVICES = 1000
PER_DEVICE = 57           # distinct messages per device in run A
DUPLICATES = 3000         # 5 % of the 60,000 publishes
SWAP_SHARE = 0.05         # out-of-order share
ALARM_DEVICES = 50        # smoke sensors raising one smoke alarm each
ALARM_SPAN = range(20, 30)
CAPACITY_MESSAGES = 60000
TARGET_RATE = 5000.0      # messages/s
TARGET_P95_MS = 500.0
TOPIC = "gridmap/devices/{}/telemetry"
# the demo district's extent (Wuhan, Optics Valley), where the devices are placed
BBOX = (114.395, 30.495, 114.415, 30.510)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _psql(url: str, sql: str) -> str:
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-d", url, "-c", sql],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


class Broker:
    """A Mosquitto of the benchmark's own, from gridmap's broker configuration."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        conf = workdir / "mosquitto.conf"
        base = (REPO / "config" / "mosquitto" / "gridmap.conf").read_text(encoding="utf-8")
        # in memory: the benchmark never restarts the broker itself
        lines = [line for line in base.splitlines()
                 if not line.strip().startswith(("persistence", "autosave"))]
        conf.write_text("\n".join(lines + [f"listener {self.port} 127.0.0.1",
                                           "log_dest none", "persistence false", ""]),
                        encoding="utf-8")
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise SystemExit("bench: mosquitto did not start")
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Consumer:
    """``gridmap ingest-mqtt`` as a process with a fixed client id (persistent session)."""

    def __init__(self, url: str, broker: Broker, client_id: str, log: Path,
                 processes: int) -> None:
        # a group of its own: a shared subscription hands messages round-robin to every
        # member with a session, the ones away included (their share waits in their session)
        self.args = GRIDMAP + ["ingest-mqtt", "--url", broker.url, "--group", client_id,
                               "--client-id", client_id, "--processes", str(processes)]
        self.env = {**os.environ, "DATABASE_URL": url}
        self.log = log
        self.processes = processes
        self.proc: subprocess.Popen | None = None
        self._offset = 0

    def start(self) -> None:
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=log,
                                         start_new_session=True)

    def wait_subscribed(self, timeout: float = 60) -> None:
        """Until every process of this start has subscribed (a message published before a
        member subscribes goes to the members already there)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log, "rb") as log:
                log.seek(self._offset)
                if log.read().count(b"subscribing") >= self.processes:
                    return
            time.sleep(0.1)
        raise SystemExit(f"bench: the consumer did not subscribe within {timeout} s "
                         f"(see {self.log})")

    def kill(self) -> None:
        """A crash: every process of the consumer killed at once, nothing stored on the way."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _publisher(broker: Broker, client_id: str):
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


class _DevicePublishers:
    """One ``mosquitto_pub -l`` per simulated device (its own connection and client id, QoS 1,
    MQTT 5), fed a line per message: the devices publish from C, so the load generator takes
    a few percent of the machine rather than the core a Python MQTT publisher needs at
    5,000 messages/s (measured: 60–90 % of a core with paho-mqtt)."""

    def __init__(self, broker: Broker, devices: list[str]) -> None:
        self.procs = {device: subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-V", "mqttv5",
             "-q", "1", "-i", f"pub-{device}", "-t", TOPIC.format(device), "-l"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for device in devices}
        time.sleep(3.0)  # every device connected before the clock starts
        dead = [d for d, p in self.procs.items() if p.poll() is not None]
        if dead:
            raise SystemExit(f"bench: mosquitto_pub of {len(dead)} device(s) ended at start")

    def send(self, device: str, payload: bytes) -> None:
        os.write(self.procs[device].stdin.fileno(), payload + b"\n")

    def close(self) -> None:
        for proc in self.procs.values():
            proc.stdin.close()
        for proc in self.procs.values():
            proc.wait(timeout=60)


def _device_ids() -> list[str]:
    return [f"bench-{n:04d}" for n in range(DEVICES)]


def _register(url: str, workdir: Path, rng: random.Random) -> None:
    """A fresh database with the demo and the 1,000 devices (``gridmap device import``).

    Fresh at every run: the alarms of a run must meet no incident left open by the last.
    """
    env = {**os.environ, "DATABASE_URL": url}
    base, _, name = url.rsplit("?", 1)[0].rpartition("/")
    subprocess.run(["psql", "-X", "-q", "-d", f"{base}/postgres", "-c",
                    f'drop database if exists "{name}" with (force)'], check=True)
    subprocess.run(["bash", str(REPO / "scripts" / "ensure-db.sh"), url], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(GRIDMAP + ["db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(GRIDMAP + ["demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    csv = workdir / "devices.csv"
    rows = ["id,type,name,lon,lat,moving"]
    for n, device in enumerate(_device_ids()):
        lon = rng.uniform(BBOX[0], BBOX[2])
        lat = rng.uniform(BBOX[1], BBOX[3])
        rows.append(f"{device},smoke_sensor,bench sensor {n},{lon:.7f},{lat:.7f},false")
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    subprocess.run(GRIDMAP + ["device", "import", str(csv)], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def _plan_run_a(rng: random.Random, start: datetime) -> list[tuple[str, str, datetime, bool]]:
    """The publishes of run A in order: (device, message id, event time, smoke)."""
    order: list[tuple[str, int]] = [(d, k) for k in range(PER_DEVICE) for d in _device_ids()]
    position = {item: i for i, item in enumerate(order)}
    for d in _device_ids():
        for k in range(PER_DEVICE - 1):
            if rng.random() < SWAP_SHARE:
                i, j = position[(d, k)], position[(d, k + 1)]
                order[i], order[j] = order[j], order[i]
                position[(d, k)], position[(d, k + 1)] = j, i
    alarmed = set(_device_ids()[:ALARM_DEVICES])
    plan = [(d, f"{d}-a{k}", start + timedelta(seconds=k, milliseconds=n % 1000),
             d in alarmed and k in ALARM_SPAN) for n, (d, k) in enumerate(order)]
    for original in rng.sample(range(len(plan) - 600), DUPLICATES):
        # published again a little later (0.02–0.1 s at the run's rate)
        plan.insert(original + rng.randint(100, 500), plan[original])
    return plan


def _payload(message_id: str, event_time: datetime, smoke: bool) -> bytes:
    return json.dumps({"message_id": message_id, "event_time": event_time.isoformat(),
                       "readings": {"battery": 80, "sent": time.time()},
                       "alarms": {"smoke": smoke}}).encode()


def _lags_peer(path: Path, skip: set[str]) -> list[float]:
    lags = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stamp, _, body = line.partition(" ")
        try:
            payload = json.loads(body)
            if payload["message_id"] not in skip:
                lags.append(float(stamp) - payload["readings"]["sent"])
        except (ValueError, KeyError, TypeError):
            continue
    return lags


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else (values[0] if values else float("nan"))


def _wait_for(url: str, where: str, count: int, timeout: float) -> int:
    deadline = time.time() + timeout
    stored = -1
    while time.time() < deadline:
        stored = int(_psql(url, f"select count(*) from device_telemetry where {where}"))
        if stored >= count:
            return stored
        time.sleep(0.25)
    return stored


def run_a(url: str, broker: Broker, workdir: Path, rate: float, rng: random.Random,
          processes: int) -> dict:
    consumer = Consumer(url, broker, "bench-consumer-a", workdir / "consumer-a.log", processes)
    peer_out = workdir / "peer-a.txt"
    with open(peer_out, "w", encoding="utf-8") as out:
        peer = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port),
                                 "-V", "mqttv5", "-q", "1", "-t", TOPIC.format("+"),
                                 "-F", "%U %p"], stdout=out)
    consumer.start()
    consumer.wait_subscribed()
    # ready when a probe message is stored
    publisher = _publisher(broker, "bench-publisher-a")
    probe_deadline = time.time() + 60
    while time.time() < probe_deadline:
        publisher.publish(TOPIC.format("bench-0000"), _payload(
            f"probe-{time.time()}", datetime(2026, 1, 1, tzinfo=timezone.utc), False), qos=1)
        if _wait_for(url, "message_id like 'probe-%'", 1, 2) >= 1:
            break
    else:
        raise SystemExit("bench: the consumer stored nothing within 60 s (see "
                         f"{consumer.log})")
    first_incident = int(_psql(url, "select coalesce(max(id), 0) from incident"))
    plan = _plan_run_a(rng, datetime(2026, 6, 1, 8, tzinfo=timezone.utc))
    kill_at = int(len(plan) * 0.4)
    kill_time = restart_time = 0.0
    devices = _DevicePublishers(broker, _device_ids())
    begin = time.perf_counter()
    wall0 = time.time()
    for i, (device, message_id, event_time, smoke) in enumerate(plan):
        due = begin + i / rate
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        if i == kill_at:
            consumer.kill()
            kill_time = time.time()
            threading.Timer(2.0, consumer.start).start()
            restart_time = kill_time + 2.0
        devices.send(device, _payload(message_id, event_time, smoke))
    publish_seconds = time.perf_counter() - begin
    devices.close()
    print(f"run A: published {len(plan)} in {publish_seconds:.1f} s", flush=True)
    distinct = len({m for _, m, _, _ in plan})
    stored = _wait_for(url, "message_id like 'bench-%-a%'", distinct, 120)
    time.sleep(1.0)
    stored = int(_psql(url, "select count(*) from device_telemetry "
                            "where message_id like 'bench-%-a%'"))
    # the restart: from the kill until the outage's backlog is written
    drain_end = float(_psql(url, f"""
        select extract(epoch from max(stored_at)) from device_telemetry
        where message_id like 'bench-%-a%'
          and (readings->>'sent')::float8 < {restart_time}"""))
    # left out as "the restart": messages published from the kill until the outage's
    # backlog was written, and those published before the kill but not yet stored then
    restart = f"""((readings->>'sent')::float8 between {kill_time} and {drain_end}
                   or ((readings->>'sent')::float8 < {kill_time}
                       and extract(epoch from stored_at) > {kill_time}))"""
    lags = [float(v) for v in _psql(url, f"""
        select extract(epoch from stored_at) - (readings->>'sent')::float8
        from device_telemetry where message_id like 'bench-%-a%'
          and not {restart}""").split()]
    restart_ids = set(_psql(url, f"""
        select message_id from device_telemetry where message_id like 'bench-%-a%'
          and {restart}""").split())
    peer.terminate()
    peer.wait()
    peer_lags = _lags_peer(peer_out, restart_ids)
    expected: dict[str, datetime] = {}
    for device, _, event_time, _ in plan:
        expected[device] = max(event_time, expected.get(device, event_time))
    seen = dict(line.split("|") for line in _psql(url, """
        select id, extract(epoch from last_seen) from device
        where id like 'bench-%'""").splitlines())
    latest_ok = sum(abs(float(seen.get(d) or 0) - t.timestamp()) < 1e-3
                    for d, t in expected.items())
    incidents = int(_psql(url, f"""
        select count(*) from incident where id > {first_incident}"""))
    consumer.stop()
    publisher.disconnect()
    publisher.loop_stop()
    return {"distinct": distinct, "stored": stored, "publishes": len(plan),
            "publish_rate": len(plan) / publish_seconds, "lags": lags,
            "peer_lags": peer_lags, "latest_ok": latest_ok, "incidents": incidents,
            "outage_s": restart_time - kill_time, "drain_s": drain_end - kill_time,
            "wall0": wall0}


def run_b(url: str, broker: Broker, workdir: Path, processes: int) -> dict:
    consumer = Consumer(url, broker, "bench-consumer-b", workdir / "consumer-b.log", processes)
    # create the consumers' persistent sessions and the peer's, then go away
    consumer.start()
    consumer.wait_subscribed()
    probe = _publisher(broker, "bench-publisher-b")
    while _wait_for(url, "message_id like 'probeb-%'", 1, 2) < 1:
        probe.publish(TOPIC.format("bench-0001"), _payload(
            f"probeb-{time.time()}", datetime(2026, 1, 1, tzinfo=timezone.utc), False), qos=1)
    consumer.stop()
    sub = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-V", "mqttv5",
           "-q", "1", "-c", "-i", "bench-peer-b", "-x", "3600", "-t", TOPIC.format("+")]
    subprocess.run(sub + ["-E"], check=True)
    start = datetime(2026, 7, 1, tzinfo=timezone.utc)
    infos = []
    for n in range(CAPACITY_MESSAGES):
        device = f"bench-{n % DEVICES:04d}"
        infos.append(probe.publish(TOPIC.format(device), _payload(
            f"{device}-b{n // DEVICES}", start + timedelta(seconds=n // DEVICES), False), qos=1))
    for info in infos:
        info.wait_for_publish(30)
    print(f"run B: {CAPACITY_MESSAGES} messages queued", flush=True)
    probe.disconnect()
    probe.loop_stop()
    # peer: drain its queue
    peer = subprocess.run(sub + ["-C", str(CAPACITY_MESSAGES), "-F", "%U"],
                          capture_output=True, text=True, timeout=300)
    stamps = [float(s) for s in peer.stdout.split()]
    peer_rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    consumer.start()
    stored = _wait_for(url, "message_id like 'bench-%-b%'", CAPACITY_MESSAGES, 300)
    consumer.stop()
    first, last = (float(v) for v in _psql(url, """
        select extract(epoch from min(stored_at)) || ' ' || extract(epoch from max(stored_at))
        from device_telemetry where message_id like 'bench-%-b%'""").split())
    return {"rate": (stored - 1) / (last - first), "stored": stored, "peer_rate": peer_rate,
            "peer_received": len(stamps)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures here (bench/run.py)")
    parser.add_argument("--rate", type=float, default=TARGET_RATE,
                        help="publishes per second in run A (default %(default)s)")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="gridmap ingest-mqtt --processes (default: the cores, %(default)s)")
    args = parser.parse_args(argv)
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_sub") is None:
        print("bench: mosquitto and mosquitto_sub are needed (make bench installs them)",
              file=sys.stderr)
        return 2
    url = os.environ.get("BENCH_MQTT_DATABASE_URL", DEFAULT_URL)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        _register(url, workdir, rng)
        broker = Broker(workdir)
        try:
            a = run_a(url, broker, workdir, args.rate, rng, args.processes)
            b = run_b(url, broker, workdir, args.processes)
        finally:
            broker.close()
            for log in sorted(workdir.glob("consumer-*.log")):
                tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-5:]
                if tail:
                    print(f"-- {log.name} (last lines)\n" + "\n".join(tail))
    p50, p95 = (_percentile(a["lags"], q) * 1000 for q in (50, 95))
    peer50, peer95 = (_percentile(a["peer_lags"], q) * 1000 for q in (50, 95))
    print(f"run A: {a['publishes']} publishes at {a['publish_rate']:.0f}/s, "
          f"{a['distinct']} distinct, {a['stored']} stored; consumer down "
          f"{a['outage_s']:.1f} s, restart backlog written {a['drain_s']:.1f} s after the kill; "
          f"lag p50 {p50:.0f} ms, p95 {p95:.0f} ms outside the restart "
          f"({len(a['lags'])} messages); mosquitto_sub p50 {peer50:.0f} ms, "
          f"p95 {peer95:.0f} ms; devices at their latest state {a['latest_ok']}/{DEVICES}; "
          f"alarm incidents {a['incidents']}/{ALARM_DEVICES}")
    print(f"run B: drained {b['stored']} queued messages at {b['rate']:.0f}/s; "
          f"mosquitto_sub {b['peer_received']} at {b['peer_rate']:.0f}/s")
    figures = [
        Figure("MQTT ingest: queued messages drained", "msg/s", spread([b["rate"]]),
               "mosquitto_sub (stores nothing)", spread([b["peer_rate"]]),
               f">= {TARGET_RATE:.0f} msg/s", b["rate"] >= TARGET_RATE),
        Figure(f"MQTT lag p95 at {args.rate:.0f} msg/s, outside the restart", "ms",
               spread([p95]), "mosquitto_sub", spread([peer95]),
               f"<= {TARGET_P95_MS:.0f} ms", p95 <= TARGET_P95_MS),
        Figure(f"MQTT lag p50 at {args.rate:.0f} msg/s", "ms", spread([p50]), "mosquitto_sub",
               spread([peer50]), "(information)", True),
        Figure("MQTT rows stored / distinct messages published", "rows",
               spread([float(a["stored"])]), "distinct published",
               spread([float(a["distinct"])]), "= 1 (0 lost, 0 duplicated)",
               a["stored"] == a["distinct"]),
        Figure("MQTT devices at their latest event's state", "devices",
               spread([float(a["latest_ok"])]), "devices", spread([float(DEVICES)]), "= 1",
               a["latest_ok"] == DEVICES),
        Figure("MQTT alarm incidents opened", "incidents", spread([float(a["incidents"])]),
               "smoke alarms raised", spread([float(ALARM_DEVICES)]), "= 1",
               a["incidents"] == ALARM_DEVICES),
    ]
    if args.json:
        write_figures(args.json, figures)
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
