"""CPU time the database server spends for a command: its backends' user + system time.

A benchmark's client CPU time (``wait4``) leaves out the work the command has PostgreSQL do
in its own processes. :class:`ServerCpu` samples ``/proc/<pid>/stat`` of every backend
connected to the benchmark's database (other than its own) while a command runs, and adds up
the last value seen of each. Only possible when the server runs on this machine (``/proc``
shows its processes); otherwise it reports ``None``. A backend's CPU in the last sampling
interval before it exits is missed (at most :data:`INTERVAL` per connection).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import psycopg

INTERVAL = 0.02  # seconds between samples
_TICK = os.sysconf("SC_CLK_TCK")
_BACKENDS = ("select pid from pg_stat_activity "
             "where datname = current_database() and backend_type = 'client backend' "
             "and pid <> pg_backend_pid()")


def _cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


class ServerCpu:
    """``with ServerCpu(dsn) as cpu: run(...)``, then ``cpu.seconds`` (``None`` when the
    server's processes are not visible from here)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._visible = True
        self.seconds: float | None = None

    def __enter__(self) -> "ServerCpu":
        self._conn = psycopg.connect(self._dsn, autocommit=True)
        server_pid = self._conn.execute("select pg_backend_pid()").fetchone()[0]
        self._visible = _cpu(server_pid) is not None
        self._before = {r[0] for r in self._conn.execute(_BACKENDS)}
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(INTERVAL):
            for (pid,) in self._conn.execute(_BACKENDS).fetchall():
                if pid not in self._before and (cpu := _cpu(pid)) is not None:
                    self._seen[pid] = cpu

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()
        self.seconds = sum(self._seen.values()) if self._visible else None
