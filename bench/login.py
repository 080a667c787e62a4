"""Benchmark: 20 people signing in at once (a shift starting) against ``gridmap serve`` on
loopback, beside the floor — the same 20 argon2id verifications alone, in as many processes as
the server has workers.

Each round: 20 browsers fetch the login page (untimed), wait at a barrier, then POST the form
together; a login's time is its POST's round trip (CSRF check, argon2id verification, the
lockout row lock, the audit row, the commit, the redirect). The floor is 20 bare
``PasswordHasher.verify`` calls submitted at once to a pool of the server's worker count: what
no implementation with these parameters can beat. The figure is the 95th percentile over all
rounds, gridmap ÷ floor. The same is then measured, for information, with RFC 9106's
"low-memory" parameters (argon2-cffi's default: 3 passes, 64 MiB, 4 lanes).

The database is ``$BENCH_DATABASE_URL`` (default ``…/gridmap_bench``); the benchmark adds
people named ``bench-login-NN`` and resets their passwords at every run.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Figure, spread, write_figures  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/gridmap_bench"
TARGET = 1.5  # p95 at most this many times the floor's
WORKERS = 2   # gridmap serve's default
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RFC9106_LOW_MEMORY = {"argon2_time_cost": 3, "argon2_memory_kib": 65536, "argon2_parallelism": 4}


def _env(url: str, params: dict[str, int]) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url}
    env.update({f"GRIDMAP_{k.upper()}": str(v) for k, v in params.items()})
    return env


def _people(url: str, count: int, password: str, params: dict[str, int]) -> list[str]:
    """``bench-login-NN`` people with ``password`` hashed with ``params``."""
    from gridmap.auth import add_person, reset_password
    from gridmap.config import load_settings
    from gridmap.db import session_scope
    from gridmap.models import Person
    from sqlalchemy import select

    settings = load_settings({"database_url": url, **params})
    logins = [f"bench-login-{n:02d}" for n in range(count)]
    with session_scope(url) as session:
        for login in logins:
            if session.execute(select(Person.id).where(Person.login == login)).first():
                reset_password(session, login, password, settings=settings)
            else:
                add_person(session, login, role="administrator", password=password,
                           settings=settings)
    return logins


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, params: dict[str, int]) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gridmap.cli", "serve", "--port", str(self.port),
             "--workers", str(WORKERS)], env=_env(url, params), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(self.base + "/api/health", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.close()
                raise SystemExit("bench: gridmap serve did not start")
            time.sleep(0.3)

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)


def _logins(server: Server, logins: list[str], password: str, rounds: int) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()
    for _ in range(rounds):
        barrier = threading.Barrier(len(logins))
        failures: list[str] = []

        def one(login: str) -> None:
            browser = requests.Session()
            token = _TOKEN.search(browser.get(server.base + "/login").text).group(1)
            barrier.wait()
            start = time.perf_counter()
            answer = browser.post(server.base + "/login", allow_redirects=False,
                                  data={"login": login, "password": password,
                                        "csrf_token": token})
            took = time.perf_counter() - start
            with lock:
                times.append(took)
                if answer.status_code != 302:
                    failures.append(f"{login}: {answer.status_code}")
        threads = [threading.Thread(target=one, args=(login,)) for login in logins]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise SystemExit(f"bench: logins refused: {failures[:3]}")
    return times


def _verify(encoded: str, password: str, submitted: float) -> float:
    from argon2 import PasswordHasher

    PasswordHasher.from_parameters(__import__("argon2").extract_parameters(encoded)) \
        .verify(encoded, password)
    return time.perf_counter() - submitted


def _floor(params: dict[str, int], count: int, password: str, rounds: int) -> list[float]:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=params["argon2_time_cost"],
                            memory_cost=params["argon2_memory_kib"],
                            parallelism=params["argon2_parallelism"])
    encoded = hasher.hash(password)
    times: list[float] = []
    with ProcessPoolExecutor(WORKERS) as pool:
        list(pool.map(_verify, [encoded] * WORKERS, [password] * WORKERS,
                      [time.perf_counter()] * WORKERS))  # warm-up: start the processes
        for _ in range(rounds):
            now = time.perf_counter()
            times += list(pool.map(_verify, [encoded] * count, [password] * count,
                                   [now] * count))
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure(url: str, params: dict[str, int], count: int, rounds: int):
    password = "bench passphrase " + os.urandom(4).hex()
    logins = _people(url, count, password, params)
    server = Server(url, params)
    try:
        _logins(server, logins[:WORKERS], password, 1)  # warm-up: imports, first connections
        ours = _logins(server, logins, password, rounds)
    finally:
        server.close()
    return ours, _floor(params, count, password, rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the figures here (bench/run.py).")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    subprocess.run([sys.executable, "-m", "gridmap.cli", "db", "upgrade"], check=True,
                   env=_env(url, {}), stdout=subprocess.DEVNULL)
    from gridmap.config import load_settings

    settings = load_settings({"database_url": url})
    default = {k: settings[k] for k in RFC9106_LOW_MEMORY}
    load = os.getloadavg()[0]
    results = {name: measure(url, params, args.people, args.rounds)
               for name, params in (("default", default), ("rfc9106", RFC9106_LOW_MEMORY))}
    print(f"{args.people} concurrent logins × {args.rounds} rounds, gridmap serve with "
          f"{WORKERS} workers on loopback, {os.cpu_count()} CPUs, load average {load:.2f} "
          f"before, {os.getloadavg()[0]:.2f} after")
    print(f"  {'argon2id parameters':<40}{'p50 s':>8}{'p95 s':>8}{'floor p95 s':>13}"
          f"{'ratio':>7}")
    for name, params in (("default", default), ("rfc9106", RFC9106_LOW_MEMORY)):
        ours, floor = results[name]
        label = (f"{name}: t={params['argon2_time_cost']} m={params['argon2_memory_kib']} KiB "
                 f"p={params['argon2_parallelism']}")
        print(f"  {label:<40}{statistics.median(ours):>8.3f}{p95(ours):>8.3f}"
              f"{p95(floor):>13.3f}{p95(ours) / p95(floor):>7.2f}")
    ours, floor = results["default"]
    figure = Figure(f"login p95, {args.people} at once", "s", (p95(ours),) + spread(ours)[1:],
                    "argon2 verify alone", (p95(floor),) + spread(floor)[1:],
                    f"≤ {TARGET}× floor", p95(ours) <= TARGET * p95(floor))
    if args.json:
        write_figures(args.json, [figure])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
