"""``gridmap ingest-mqtt --processes N``: N consumers of one shared-subscription group, each
a process of its own, under one parent.

Why processes: a consumer spends most of its CPU decoding MQTT packets and JSON in Python
(paho-mqtt's network thread and the batch's checks hold the interpreter lock), so one
process tops out near one core; the broker's shared subscription spreads the messages over
the group's members, so N processes use N cores with no coordination of their own.

Each child is ``gridmap ingest-mqtt`` itself with the client id ``CLIENT-ID-i`` — stable, so
every child's persistent session is found again at the next start (a member that never comes
back would keep its share of messages queued in its session: keep N the same between
restarts, or let the sessions expire). Only the first child checks for silent devices. The
parent passes SIGTERM/SIGINT on and waits for every child to store and acknowledge its last
batch; a child that dies is started again after a second. Children end with the parent
(``PR_SET_PDEATHSIG``), so killing the parent never leaves consumers behind.
"""
from __future__ import annotations

import ctypes
import functools
import logging
import os
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger("gridmap.devices")
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In the child before exec: SIGTERM when the parent ends. A parent that ended between the
    fork and this request sends nothing, so a child whose parent is no longer ``parent`` ends
    at once (seen once in a test run: a parent killed right after starting its children left
    one running)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        return
    if os.getppid() != parent:
        os._exit(1)


def run_consumers(database_url: str, client_id: str, count: int, options: list[str], *,
                  offline_every: float) -> int:
    """Run ``count`` consumer processes until SIGTERM/SIGINT (or until they all end by
    themselves, e.g. ``--max-seconds``); the exit status is the worst of theirs."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    env = {**os.environ, "DATABASE_URL": database_url}

    def start(index: int) -> subprocess.Popen:
        every = offline_every if index == 1 else 0
        command = [sys.executable, "-m", "gridmap.cli", "ingest-mqtt", "--client-id",
                   f"{client_id}-{index}", "--offline-every", str(every)] + options
        return subprocess.Popen(command, env=env,
                                preexec_fn=functools.partial(_die_with_parent, os.getpid()))

    children = {index: start(index) for index in range(1, count + 1)}
    finished: dict[int, int] = {}
    while not stop.is_set() and len(finished) < count:
        for index, child in list(children.items()):
            if index in finished or child.poll() is None:
                continue
            if child.returncode == 0 or "--max-seconds" in options:
                finished[index] = child.returncode
            else:
                log.error("consumer %s-%d ended with status %d; starting it again",
                          client_id, index, child.returncode)
                time.sleep(1)
                children[index] = start(index)
        stop.wait(0.2)
    for index, child in children.items():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    status = 0
    for index, child in children.items():
        child.wait()
        status = max(status, abs(finished.get(index, child.returncode) or 0))
    return status
