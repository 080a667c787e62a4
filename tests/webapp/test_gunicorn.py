"""``gridmap serve`` under real gunicorn: its own error answers are JSON too (raw sockets)."""
from __future__ import annotations

import json
import socket

import pytest


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /api/layers?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /api/layers HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    (b"GET /api/layers HTTP/1.1\r\nHost: x\r\n"
     + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n", 431),
    (b"NOT A REQUEST LINE\r\n\r\n", 400),
    (b"GET /api/layers HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400),
])
def test_gunicorn_errors_are_json(served, request_bytes, status):
    code, headers, body = _raw(served, request_bytes)
    assert code == status
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    answer = json.loads(body)
    assert set(answer) == {"error", "detail"} and answer["detail"]
    assert headers["cache-control"] == "no-store"


def test_app_answers_through_gunicorn_with_headers(served):
    code, headers, body = _raw(served, b"GET /api/layers/grids/features?limit=%C2%B2 HTTP/1.1"
                                       b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    # Who asks comes first: an anonymous caller learns nothing of the parameters.
    assert code == 401 and "X-API-Key" in json.loads(body)["detail"]
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert headers["x-content-type-options"] == "nosniff"
