"""Administration pages: people, agencies' API keys, the dispatch matrix and the audit trail
(administrators only; community admins manage their community's people).

The views parse the forms and call :mod:`gridmap.auth` and :mod:`gridmap.audit`, which check
and record everything; a refused form is shown again with the reason, nothing half-written.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from gridmap.audit import list_events
from gridmap.auth import (add_person, disable_person, issue_key, list_keys, reset_password,
                          revoke_key)
from gridmap.auth.keys import SERVICES, parse_collections
from gridmap.auth.management import GRANTABLE, check_manages, check_may_grant, people_managed
from gridmap.errors import Forbidden, GridmapError, InvalidInput
from gridmap.i18n import msg
from gridmap.incidents.dispatch import list_rules, set_rule, unset_rule
from gridmap.models.incident import Department, EventClass
from gridmap.models.person import ROLES
from webapp.auth import access, caller_scope, role_name
from webapp.database import get_session

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Which scope level a code of each length names, per role (the web form takes codes only).
_LEVEL_BY_LENGTH = {"grid_worker": None, "community_admin": {12: "community"},
                    "planner": {6: "district", 9: "street"},
                    "dispatcher": {6: "district", 9: "street"},
                    "handler": {6: "district", 9: "street"}, "administrator": {}}


class PersonForm(FlaskForm):
    login = StringField(_l("Login name"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name shown"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=list(ROLES))
    codes = StringField(_l("Grids, communities, streets or districts (codes, separated by "
                           "spaces)"), validators=[Length(max=2000)])
    department = StringField(_l("Department (handlers only; empty: every department)"),
                             validators=[Length(max=32)])
    password = PasswordField(_l("First password"), validators=[DataRequired(),
                                                               Length(max=1024)])


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])


class KeyForm(FlaskForm):
    agency = StringField(_l("Agency"), validators=[DataRequired(), Length(max=200)])
    collections = StringField(_l("Collections (names separated by commas, or all)"),
                              default="all", validators=[DataRequired(), Length(max=1000)])


class RuleForm(FlaskForm):
    # checked by gridmap.incidents.dispatch.check_rule, which says what was expected
    class_pattern = StringField(_l("Event class (minor class 4 digits, major class 2 digits, "
                                   "or * for every class)"), validators=[DataRequired()])
    area_code = StringField(_l("Area (district 6 digits, street 9, community 12, or * for "
                               "everywhere)"), default="*", validators=[DataRequired()])
    department = SelectField(_l("Department"), choices=[], validate_choice=False,
                             validators=[DataRequired()])


class RemoveRuleForm(FlaskForm):
    class_pattern = StringField(validators=[DataRequired()])
    area_code = StringField(validators=[DataRequired()])


def scopes_from_codes(role: str, text: str) -> list[tuple[str, str]]:
    """The scope rows meant by the codes typed for ``role``: a grid worker's are grid codes,
    a community admin's community codes (12 digits), a planner's street (9) or district (6)
    codes."""
    levels = _LEVEL_BY_LENGTH[role]
    rows = []
    for code in text.split():
        if levels is None:
            rows.append(("grid", code))
        elif len(code) in levels:
            rows.append((levels[len(code)], code))
        else:
            expected = _(" or ").join(_("%(digits)d digits (%(level)s)", digits=n,
                                        level=_(lvl)) for n, lvl in sorted(levels.items())) \
                or _("no code (an administrator reaches everything)")
            raise InvalidInput(_("code %(code)s for role %(role)s: expected %(expected)s",
                                 code=code, role=role_name(role), expected=expected))
    return rows


def _manager():
    """The caller, who must hold the ``people`` capability (administrators, community
    admins)."""
    scope = caller_scope()
    if not scope.may("people"):
        raise Forbidden(msg("only administrators and community admins manage people"))
    return scope


def _people_page(form: PersonForm, problem: str | None = None, status: int = 200):
    scope = _manager()
    roles = ROLES if scope.is_administrator else GRANTABLE.get(scope.role, ())
    return render_template("people.html", people=people_managed(get_session(), scope),
                           form=form, roles=roles, problem=problem), status


def _apply(change) -> GridmapError | None:
    """Run ``change`` and commit; on a user's mistake roll back and return it (its detail is
    shown on the page, its status is the page's)."""
    db = get_session()
    try:
        change(db)
    except GridmapError as exc:
        db.rollback()
        return exc
    db.commit()
    return None


@bp.get("/people")
@access("person")
def people():
    return _people_page(PersonForm(formdata=None))


@bp.post("/people")
@access("person")
def add():
    scope = _manager()
    form = PersonForm()
    if not form.validate_on_submit():
        return _people_page(form, status=400)
    settings = current_app.config["GRIDMAP"]

    def change(db):
        scopes = scopes_from_codes(form.role.data, form.codes.data or "")
        check_may_grant(db, scope, form.role.data, scopes)
        add_person(db, form.login.data.strip(), role=form.role.data,
                   password=form.password.data, display_name=form.display_name.data or None,
                   scopes=scopes, department=(form.department.data or "").strip() or None,
                   settings=settings)
    problem = _apply(change)
    if problem:
        return _people_page(form, problem.detail, problem.status)
    return redirect(url_for("admin.people"))


@bp.post("/people/<login>/disable")
@access("person")
def disable(login: str):
    scope = _manager()

    def change(db):
        check_manages(db, scope, login)
        disable_person(db, login)
    problem = _apply(change)
    return _people_page(PersonForm(formdata=None), problem.detail, problem.status) if problem \
        else redirect(url_for("admin.people"))


@bp.post("/people/<login>/password")
@access("person")
def reset(login: str):
    scope = _manager()
    form = ResetForm()
    if not form.validate_on_submit():
        return _people_page(PersonForm(formdata=None), _("a new password is required"), 400)
    settings = current_app.config["GRIDMAP"]


    def change(db):
        check_manages(db, scope, login)
        reset_password(db, login, form.password.data, settings=settings)
    problem = _apply(change)
    return _people_page(PersonForm(formdata=None), problem.detail, problem.status) if problem \
        else redirect(url_for("admin.people"))


def _keys_page(form: KeyForm, *, secret: str | None = None, problem: str | None = None,
               status: int = 200):
    return render_template("keys.html", keys=list_keys(get_session()), form=form,
                           secret=secret, problem=problem,
                           collections=list(current_app.extensions["gridmap_layers"])), status


@bp.get("/keys")
@access("administrator")
def keys():
    return _keys_page(KeyForm(formdata=None))


@bp.post("/keys")
@access("administrator")
def add_key():
    form = KeyForm()
    if not form.validate_on_submit():
        return _keys_page(form, status=400)
    issued = []

    def change(db):
        names = parse_collections(form.collections.data,
                                  known=[*current_app.extensions["gridmap_layers"], *SERVICES])
        issued.append(issue_key(db, form.agency.data, names))
    problem = _apply(change)
    if problem:
        return _keys_page(form, problem=problem.detail, status=problem.status)
    # Shown once, on this page only; the response must not be kept by any cache.
    page, status = _keys_page(KeyForm(formdata=None), secret=issued[0].secret)
    response = current_app.make_response((page, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/keys/<ident>/revoke")
@access("administrator")
def revoke(ident: str):
    problem = _apply(lambda db: revoke_key(db, ident))
    return _keys_page(KeyForm(formdata=None), problem=problem.detail,
                      status=problem.status) if problem else redirect(url_for("admin.keys"))


def _dispatch_page(form: RuleForm, problem: str | None = None, status: int = 200):
    db = get_session()
    departments = list(db.execute(select(Department).order_by(Department.code)).scalars())
    classes = list(db.execute(select(EventClass).order_by(EventClass.code)).scalars())
    majors = {c.code[:2]: c for c in classes}
    form.department.choices = [(d.code, d.code) for d in departments]
    return render_template("dispatch.html", rules=list_rules(db), form=form, problem=problem,
                           departments={d.code: d for d in departments},
                           classes={c.code: c for c in classes}, majors=majors), status


@bp.get("/dispatch")
@access("administrator")
def dispatch():
    """The dispatch matrix: event class × area → department, most specific rule first."""
    return _dispatch_page(RuleForm(formdata=None))


@bp.post("/dispatch")
@access("administrator")
def set_dispatch_rule():
    form = RuleForm()
    if not form.validate_on_submit():
        return _dispatch_page(form, _("every field is required"), 400)
    problem = _apply(lambda db: set_rule(db, form.class_pattern.data.strip(),
                                         form.area_code.data.strip(), form.department.data))
    if problem:
        return _dispatch_page(form, problem.detail, problem.status)
    return redirect(url_for("admin.dispatch"))


@bp.post("/dispatch/remove")
@access("administrator")
def remove_dispatch_rule():
    form = RemoveRuleForm()
    if not form.validate_on_submit():
        return _dispatch_page(RuleForm(formdata=None), _("which rule to remove is missing"), 400)
    problem = _apply(lambda db: unset_rule(db, form.class_pattern.data, form.area_code.data))
    return _dispatch_page(RuleForm(formdata=None), problem.detail, problem.status) if problem \
        else redirect(url_for("admin.dispatch"))


@bp.get("/audit")
@access("administrator")
def audit():
    """The trail, newest first, filtered by ``since`` (a date), ``who`` and ``table``."""
    since_text = request.args.get("since", "").strip()
    since = None
    if since_text:
        try:
            since = dt.datetime.fromisoformat(since_text)
        except ValueError:
            raise InvalidInput(_("since %(value)s: expected a date such as 2026-11-24",
                                 value=repr(since_text))) from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
    who = request.args.get("who", "").strip() or None
    table = request.args.get("table", "").strip() or None
    events = list_events(get_session(), since=since, who=who, table=table, limit=500)
    return render_template("audit.html", events=events, since=since_text, who=who or "",
                           table=table or "")
