"""What ``gridmap serve`` checks before it hands over to gunicorn, and the command it runs.

gunicorn reports a bad address with a traceback from its arbiter, and with ``--workers 0``
it listens and never answers; so the address is tried here (the same ``getaddrinfo`` and
``bind`` gunicorn will do) and every problem is one :class:`~gridmap.errors.InvalidInput`
line naming the value and what was expected.
"""
from __future__ import annotations

import errno
import socket
import sys

from gridmap.errors import InvalidInput
from gridmap.i18n import msg

MAX_WORKERS = 64


def check_workers(workers: int) -> None:
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidInput(msg("--workers {workers}: expected a whole number from 1 to "
                               "{max_workers} (each worker is one process; 2–4 per core)",
                               workers=workers, max_workers=MAX_WORKERS))


def _explain(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"cannot listen on {where}: the port is in use by another program; choose "
                f"another --port")
    if exc.errno == errno.EACCES:
        return (f"cannot listen on {where}: permission denied (ports below 1024 need root "
                f"or CAP_NET_BIND_SERVICE); choose a --port from 1024 to 65535")
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"cannot listen on {where}: {host} is not an address of this machine; use "
                f"127.0.0.1, 0.0.0.0 or one of its own addresses")
    return f"cannot listen on {where}: {exc.strerror or exc}"


def check_listen_address(host: str, port: int) -> str:
    """Bind ``host:port`` once and release it; return gunicorn's ``--bind`` value.

    Raises
    ------
    InvalidInput
        When the port is out of range, the host does not resolve, the address is not local,
        the port is taken or needs privileges.
    """
    if not 1 <= port <= 65535:
        raise InvalidInput(msg("--port {port}: expected a port from 1 to 65535 (1024 and above "
                               "without root)", port=port))
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInput(msg("--host {host!r}: not a known host name or IP address ({error})",
                               host=host, error=getattr(exc, "strerror", None) or exc)) from None
    with socket.socket(family, kind, proto) as probe:
        # As gunicorn does: SO_REUSEADDR lets a port in TIME_WAIT through, not one in use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InvalidInput(_explain(host, port, exc)) from None
    return f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"


def gunicorn_argv(bind: str, workers: int) -> list[str]:
    """The gunicorn command line; its settings live in ``webapp/gunicorn_conf.py``."""
    return [sys.executable, "-m", "gunicorn", "--config", "python:webapp.gunicorn_conf",
            "--bind", bind, "--workers", str(workers), "--access-logfile", "-",
            "webapp:create_app()"]
