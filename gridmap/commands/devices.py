"""Devices: ``gridmap device …`` (the registry), ``gridmap ingest-mqtt`` (the telemetry
consumer) and ``gridmap simulate-devices`` (the demo's publisher)."""
from __future__ import annotations

import json
import logging
import signal
import socket
import threading
from pathlib import Path

import click

from gridmap.cli_context import Context
from gridmap.cli_help import argument, command, group, option
from gridmap.i18n import msg


def _admin():
    from gridmap.audit import current_actor
    from gridmap.auth.scope import Scope

    return Scope(f"cli:{current_actor().name}", "administrator", None, None, None, True)


@group()
def device() -> None:
    """Devices (smoke sensors, cameras, gates, meters…): register, import, list, show, retire,
    stats."""


@device.command("register")
@argument("device_id")
@option("--type", "kind", required=True, help="Device type (data/taxonomy/device_types.csv).")
@option("--name", default=None, help="A name people recognise it by.")
@option("--lon", type=float, default=None, help="Longitude (CGCS2000 degrees).")
@option("--lat", type=float, default=None, help="Latitude (CGCS2000 degrees).")
@option("--moving", is_flag=True, help="The device reports its place (a tracker).")
@option("--update", is_flag=True, help="Change a registered device instead of refusing.")
@click.pass_obj
def device_register(ctx: Context, device_id: str, kind: str, name: str | None,
                    lon: float | None, lat: float | None, moving: bool, update: bool) -> None:
    """Register device DEVICE_ID at a place (a fixed device needs --lon and --lat)."""
    from gridmap.devices.registry import DeviceSpec, describe_device, register_devices

    with ctx.session() as session:
        register_devices(session, [DeviceSpec(device_id, kind, name, lon, lat, moving)],
                         data_dir=ctx.settings["data_dir"], update=update)
        shown = describe_device(session, _admin(), device_id)
    click.echo(_line(shown))


@device.command("import")
@argument("path", type=click.Path(path_type=Path))
@option("--update", is_flag=True, help="Change devices already registered instead of "
                                       "refusing the file.")
@click.pass_obj
def device_import(ctx: Context, path: Path, update: bool) -> None:
    """Register the devices of a CSV file with the columns id,type,name,lon,lat,moving (all or
    nothing)."""
    from gridmap.devices.registry import read_device_csv, register_devices

    specs = read_device_csv(path)
    with ctx.session() as session:
        counts = register_devices(session, specs, data_dir=ctx.settings["data_dir"],
                                  update=update)
    click.echo(str(msg("{inserted} devices registered, {updated} updated",
                       inserted=counts["inserted"], updated=counts["updated"])))


def _line(shown: dict) -> str:
    alarms = ",".join(a["alarm"] for a in shown["alarms"] if a["active"])
    return (f"{shown['id']}\t{shown['type']}\t{shown['status']}\t"
            f"{shown['grid'] or msg('in no grid')}\t{shown['last_seen'] or '-'}\t"
            f"{'' if shown['battery'] is None else shown['battery']}\t{alarms}")


@device.command("list")
@option("--status", type=click.Choice(["active", "retired"]), default=None,
        help="Only devices with this status.")
@option("--limit", type=click.IntRange(1, 1_000_000), default=1000, show_default=True,
        help="At most this many, by id.")
@click.pass_obj
def device_list(ctx: Context, status: str | None, limit: int) -> None:
    """Devices by id: id, type, status, grid, last seen, battery, alarms on."""
    from gridmap.devices.registry import describe_devices

    with ctx.session() as session:
        for shown in describe_devices(session, _admin(), status=status, limit=limit):
            click.echo(_line(shown))


@device.command("show")
@argument("device_id")
@click.pass_obj
def device_show(ctx: Context, device_id: str) -> None:
    """A device with its last state and open alarms, as JSON."""
    from gridmap.devices.registry import describe_device

    with ctx.session() as session:
        shown = describe_device(session, _admin(), device_id)
    click.echo(json.dumps(shown, ensure_ascii=False, indent=1, default=str))


@device.command("retire")
@argument("device_id")
@click.pass_obj
def device_retire(ctx: Context, device_id: str) -> None:
    """Retire a device: its messages are rejected from now on."""
    from gridmap.devices.registry import retire_device

    with ctx.session() as session:
        retire_device(session, device_id)
    click.echo(str(msg("device {id} retired", id=device_id)))


@device.command("stats")
@click.pass_obj
def device_stats_command(ctx: Context) -> None:
    """Devices by status, messages stored, alarms on, and rejected messages by reason, as
    JSON."""
    from gridmap.devices.registry import device_stats

    with ctx.session() as session:
        stats = device_stats(session)
    click.echo(json.dumps(stats, ensure_ascii=False, indent=1))


@device.command("check-offline")
@click.pass_obj
def device_check_offline(ctx: Context) -> None:
    """Raise the offline alarm of devices silent for longer than
    GRIDMAP_DEVICE_OFFLINE_MINUTES (gridmap ingest-mqtt does this every minute)."""
    import datetime as dt

    from gridmap.devices.alarms import check_offline

    with ctx.session() as session:
        found = check_offline(session, now=dt.datetime.now(dt.timezone.utc),
                              offline_minutes=ctx.settings["device_offline_minutes"],
                              data_dir=ctx.settings["data_dir"])
    click.echo(str(msg("{count} device(s) newly offline", count=len(found))))


def _on_signals(stop) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop())


@command("ingest-mqtt")
@option("--url", default=None, help="MQTT broker (default: GRIDMAP_MQTT_URL).")
@option("--group", default="gridmap", show_default=True,
        help="Shared-subscription group: consumers of one group share the messages.")
@option("--client-id", default=None,
        help="MQTT client id, the same at every start so the broker keeps the session "
             "(default: gridmap-GROUP-HOST); each consumer of a group needs its own.")
@option("--topic-root", default="gridmap/devices", show_default=True,
        help="Topics are ROOT/DEVICE_ID/telemetry.")
@option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True,
        help="Most messages stored in one transaction.")
@option("--batch-ms", type=click.IntRange(1, 10_000), default=50, show_default=True,
        help="Longest wait (ms) for a batch to fill.")
@option("--session-expiry", type=click.IntRange(0, 2 ** 32 - 1), default=86400,
        show_default=True, help="Seconds the broker keeps the session (and queues messages) "
                                "while this consumer is away.")
@option("--max-seconds", type=click.FloatRange(0), default=None,
        help="Stop after this many seconds (for tests and one-off catch-ups).")
@option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
        help="Consumers to run, each a process of its own in the group (client ids "
             "CLIENT-ID-1…N): MQTT decoding is CPU-bound, so one per core scales it.")
@option("--offline-every", type=click.FloatRange(0), default=60.0, show_default=True,
        help="Seconds between checks for devices gone silent (0: never).")
@click.pass_obj
def ingest_mqtt(ctx: Context, url: str | None, group: str, client_id: str | None,
                topic_root: str, batch_size: int, batch_ms: int, session_expiry: int,
                max_seconds: float | None, processes: int, offline_every: float) -> None:
    """Store device telemetry from MQTT (QoS 1, persistent session, shared subscription)
    until SIGTERM or Ctrl+C; raise offline alarms every minute."""
    from gridmap.devices.mqtt import TelemetryConsumer

    ctx.check_database()
    logging.basicConfig(level=logging.INFO, format="ingest-mqtt: %(message)s")
    client_id = client_id or f"gridmap-{group}-{socket.gethostname()}"
    if processes > 1:
        from gridmap.devices.processes import run_consumers

        options = ["--group", group, "--topic-root", topic_root, "--batch-size",
                   str(batch_size), "--batch-ms", str(batch_ms), "--session-expiry",
                   str(session_expiry)] + (["--url", url] if url else []) + \
            (["--max-seconds", str(max_seconds)] if max_seconds is not None else [])
        raise SystemExit(run_consumers(ctx.url, client_id, processes, options,
                                       offline_every=offline_every))
    consumer = TelemetryConsumer(
        database_url=ctx.url, settings=ctx.settings, url=url, group=group,
        client_id=client_id, topic_root=topic_root, batch_size=batch_size,
        batch_ms=batch_ms, session_expiry_s=session_expiry, offline_check_s=offline_every)
    _on_signals(consumer.stop)
    stats = consumer.run(max_seconds=max_seconds)
    click.echo(str(msg("ingest-mqtt: {received} messages: {stored} stored, {duplicate} "
                       "duplicates, {rejected} rejected, in {batches} batches",
                       received=stats.received, stored=stats.stored,
                       duplicate=stats.duplicate, rejected=stats.rejected,
                       batches=stats.batches)))


@command("simulate-devices")
@option("--url", default=None, help="MQTT broker (default: GRIDMAP_MQTT_URL).")
@option("--interval", type=click.FloatRange(0.1), default=5.0, show_default=True,
        help="Seconds between rounds of messages.")
@option("--seed", type=int, default=420111, show_default=True,
        help="Seed of the simulated readings and alarms.")
@option("--rounds", type=click.IntRange(1), default=None,
        help="Stop after this many rounds (default: until stopped).")
@click.pass_obj
def simulate_devices(ctx: Context, url: str | None, interval: float, seed: int,
                     rounds: int | None) -> None:
    """Publish telemetry of the demo's devices over MQTT (with an occasional alarm) until
    stopped; `make run` starts it beside the consumer."""
    from gridmap.devices.simulate import load_simulated, publish_forever

    with ctx.session() as session:
        devices = load_simulated(session)
    if not devices:
        click.echo(str(msg("no demo devices are registered: run gridmap demo first")),
                   err=True)
        raise SystemExit(2)
    logging.basicConfig(level=logging.INFO, format="simulate-devices: %(message)s")
    stop = threading.Event()
    _on_signals(stop.set)
    sent = publish_forever(devices, url=url or ctx.settings["mqtt_url"], interval_s=interval,
                           seed=seed, stop=stop, rounds=rounds)
    click.echo(str(msg("{count} messages published", count=sent)))
