"""Signing in through the real login form (CSRF token included), for the web tests."""
from __future__ import annotations

import re

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    found = _TOKEN.search(html)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(client, login: str, password: str, *, next: str = "", **headers):
    """POST the login form; returns the response (302 on success)."""
    token = csrf_token(client)
    return client.post("/login", data={"login": login, "password": password, "next": next,
                                       "csrf_token": token}, headers=headers)


def log_out(client):
    token = csrf_token(client, "/account/password")
    return client.post("/logout", data={"csrf_token": token})
