"""Who is calling and whether they may: sessions (Flask-Login), API keys, CSRF, and the access
rule every endpoint declares.

Every endpoint declares one rule with :func:`access`; an endpoint without one is refused to
everybody (and ``tests/webapp/test_routes.py`` fails until it is declared and tabled):

``public``
    anyone: the login page, static files, health;
``person``
    a signed-in person (the map, their own account);
``reader``
    a signed-in person or an agency's API key (the data API); what each sees is then cut by
    their :class:`~gridmap.auth.scope.Scope` in the layers, never by the view;
``administrator``
    a signed-in administrator (people, keys, the audit trail).

Callers come in two ways only: a session cookie, signed with the key every server process
shares (:func:`gridmap.auth.server_secret.shared_secret`), or an API key (:func:`presented_key`:
the ``X-API-Key`` header, else the password of HTTP Basic credentials). A session
is also a row in the database (:mod:`gridmap.auth.sessions`), checked on every request: it ends
at sign-out, at a password change (all but the changing one), when the person is disabled, and
``session_max_hours`` after sign-in; and after ``session_idle_minutes`` without a request (the
cookie's signed timestamp is checked on every request). Every state-changing request from a
browser must carry the CSRF token (Flask-WTF); API keys are read-only, so they never change
anything and need none. The caller is the audit trail's actor for the whole request.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Callable, TypeVar

from flask import Flask, current_app, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from gridmap import audit
from gridmap.auth import find_key, scope_of, scope_of_key
from gridmap.auth.keys import KEY_PREFIX
from gridmap.auth.scope import Scope
from gridmap.auth.server_secret import shared_secret
from gridmap.auth.sessions import web_session_person
from gridmap.errors import AuthenticationFailed, Forbidden
from gridmap.i18n import msg
from gridmap.models import Person
from webapp.database import get_session
from webapp.errors import is_data_path

RULES = ("public", "person", "reader", "administrator")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
F = TypeVar("F", bound=Callable)

csrf = CSRFProtect()
login_manager = LoginManager()


def access(rule: str) -> Callable[[F], F]:
    """Declare who may call a view (see the module docstring)."""
    if rule not in RULES:
        raise ValueError(f"access rule {rule!r}: expected one of {', '.join(RULES)}")

    def mark(view: F) -> F:
        view.gridmap_access = rule  # type: ignore[attr-defined]
        return view
    return mark


def credential_in_body(view: F) -> F:
    """Mark a view that authenticates by a credential in the request itself (Open311's
    ``api_key``) and ignores the session: cross-site request forgery rides on cookies, so
    such a view needs no CSRF token."""
    view.gridmap_credential_in_body = True  # type: ignore[attr-defined]
    return view


def _credential_in_body() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "gridmap_credential_in_body", False))


def rule_of(app: Flask, endpoint: str) -> str | None:
    """The access rule declared for ``endpoint``; None when it declares none."""
    if endpoint == "static":
        return "public"
    return getattr(app.view_functions.get(endpoint), "gridmap_access", None)


class SignedIn(UserMixin):
    """The signed-in person as Flask-Login sees them: the id carries the person's id and
    their web session's token, checked against the database on every request (so signing
    out, a password change or a disabled account ends the session for every copy of the
    cookie)."""

    def __init__(self, person: Person, token: str) -> None:
        self.person = person
        self.token = token

    def get_id(self) -> str:
        return f"{self.person.id}:{self.token}"


def _load_person(user_id: str) -> SignedIn | None:
    ident, _, token = user_id.partition(":")
    if not ident.isdigit() or not token or len(ident) > 12:
        return None
    person = web_session_person(get_session(), int(ident), token)
    if person is None or person.disabled:
        return None
    return SignedIn(person, token)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the shared key loaded on first use and the cookie
    ``Secure`` whenever the request came over HTTPS (behind a proxy, as gunicorn's
    ``forwarded_allow_ips`` lets it tell)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def open_session(self, app: Flask, req):
        if not app.secret_key:
            try:
                sessionmaker = app.extensions["gridmap_sessionmaker"]
                with sessionmaker() as db:
                    app.secret_key = shared_secret(db)
            except Exception:  # noqa: BLE001 — reported as a 503 by _identify
                return None
        return super().open_session(app, req)


def _request_id() -> str:
    given = request.headers.get("X-Request-Id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


_SIGN_IN = msg("sign in, or send an agency's API key in the X-API-Key header")


def _refuse_anonymous(rule: str):
    if is_data_path(request.path):
        raise AuthenticationFailed(_SIGN_IN)
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("account.login", next=target))


def presented_key() -> str | None:
    """The API key the request presents, or None: the ``X-API-Key`` header, else the password
    of HTTP Basic credentials (any user name) when it has a key's prefix. Basic is there for
    clients that can sign in but cannot add a header of their own: QGIS 3.22 (a connection's
    user name and password, or an authentication configuration of method Basic). A password
    without the prefix is someone else's (a proxy's in front of gridmap, a browser's saved
    one): it is left alone, and the request is what it would be without it."""
    header = request.headers.get("X-API-Key")
    if header is not None:
        return header
    credentials = request.authorization
    if credentials is not None and credentials.type == "basic" \
            and (credentials.password or "").startswith(KEY_PREFIX):
        return credentials.password
    return None


def _identify():
    """Before every request: who is calling, may they, and the audit actor."""
    if request.routing_exception is not None:
        return None  # a 404 or 405 says so, whoever asks
    if not current_app.secret_key:
        # The database could not give the key when the session was opened: say why (schema
        # missing or behind, unreachable, busy) through the one error handler.
        current_app.secret_key = shared_secret(get_session())
    g.request_id = _request_id()
    g.scope = None
    address = request.remote_addr
    key_header = presented_key()
    actor: audit.Actor | None = None
    if key_header is not None:
        key = find_key(get_session(), key_header.strip())
        g.scope = scope_of_key(key)
        actor = audit.Actor("api_key", f"{key.agency} ({key.prefix})", address, g.request_id)
        if request.method not in SAFE_METHODS:
            raise Forbidden(msg("API keys are read-only: expected GET"))
    else:
        if request.method not in SAFE_METHODS and not _credential_in_body():
            csrf.protect()
        if current_user.is_authenticated:
            person = current_user.person
            g.scope = scope_of(get_session(), person)
            actor = audit.Actor("person", person.login, address, g.request_id)
            g.person_locale = person.locale
    if actor is not None:
        g.audit_token = audit.set_actor(actor)
    rule = rule_of(current_app, request.endpoint) if request.endpoint else "public"
    if rule is None:
        current_app.logger.error("endpoint %s declares no access rule", request.endpoint)
        raise Forbidden(msg("this address is not open to anyone yet"))
    if rule == "public":
        return None
    if g.scope is None:
        return _refuse_anonymous(rule)
    if rule in ("person", "administrator") and key_header is not None:
        raise Forbidden(msg("API keys read the data API only (/api/…)"))
    if rule == "administrator" and not g.scope.is_administrator:
        raise Forbidden(msg("only an administrator may use {path}", path=request.path))
    return None


def _tag_response(response):
    """Echo the request id, so a user's report can be matched with the audit trail."""
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


def _forget_actor(_exc: BaseException | None) -> None:
    token = g.pop("audit_token", None)
    if token is not None:
        audit.reset_actor(token)


def caller_scope() -> Scope:
    """The scope of the current (identified) caller; only views with a rule other than
    ``public`` may ask."""
    scope = g.get("scope")
    if scope is None:
        raise AuthenticationFailed(_SIGN_IN)
    return scope


def signed_in_person() -> Person | None:
    """The signed-in person, or None."""
    return current_user.person if current_user.is_authenticated else None


def init_app(app: Flask) -> None:
    settings = app.config["GRIDMAP"]
    app.secret_key = settings["secret_key"] or None
    app.session_interface = _SessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="gridmap_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings["session_idle_minutes"]),
        SESSION_REFRESH_EACH_REQUEST=True,
        # Checked in _identify, after the API-key case: keys are read-only and carry no cookie.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A token lives as long as the session that holds it (which ends when idle).
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(_load_person)
    login_manager.session_protection = None  # the signed id and the idle limit do this job
    app.before_request(_identify)
    app.teardown_request(_forget_actor)
    app.after_request(_tag_response)
    app.jinja_env.globals.update(signed_in_person=signed_in_person, role_name=role_name,
                                 may=lambda capability: bool(g.get("scope"))
                                 and g.scope.may(capability))


_ROLE_NAMES = {"grid_worker": _l("Grid worker"), "community_admin": _l("Community administrator"),
               "planner": _l("Planner"), "dispatcher": _l("Dispatcher"),
               "handler": _l("Department handler"), "administrator": _l("Administrator"),
               "agency": _l("Agency")}


def role_name(role: str) -> str:
    """A role's name in the page's language."""
    return str(_ROLE_NAMES.get(role, role))
