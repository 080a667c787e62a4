"""Signing in and out, and a person's own password.

Every refusal of a login says the same thing (:data:`gridmap.auth.people.LOGIN_REFUSED`):
never whether the name or the password was wrong, nor that the account is locked.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from gridmap.auth.people import change_password, set_locale, sign_in
from gridmap.auth.sessions import end_web_session, open_web_session
from gridmap.errors import AuthenticationFailed, InvalidInput
from gridmap.i18n import LOCALES
from webapp.auth import SignedIn, access, signed_in_person
from webapp.database import get_session

bp = Blueprint("account", __name__)


class LoginForm(FlaskForm):
    login = StringField(_l("Login name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(),
                                                                Length(max=1024)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("new", _l("The two new "
                                                                          "passwords differ."))])


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//host`` or a URL)."""
    if not target:
        return url_for("pages.map_page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return url_for("pages.map_page")
    return target


def _fresh_session() -> None:
    """Start a new session at sign-in and sign-out, keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
@access("public")
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("login.html", form=form, refused=None)
    if not form.validate_on_submit():
        return render_template("login.html", form=form, refused=None), 400
    db = get_session()
    try:
        person = sign_in(db, form.login.data.strip(), form.password.data,
                         settings=current_app.config["GRIDMAP"], address=request.remote_addr,
                         request_id=g.request_id)
    except AuthenticationFailed:
        return render_template("login.html", form=form, refused=_(
            "Login name or password not accepted. After repeated failures an account is "
            "locked for a while.")), 401
    _fresh_session()
    token = open_web_session(db, person.id, address=request.remote_addr,
                             hours=current_app.config["GRIDMAP"]["session_max_hours"])
    login_user(SignedIn(person, token))
    session.permanent = True  # expires after session_idle_minutes without a request
    db.commit()  # the session row, the audit row of the login (a rehash, a lifted lockout)
    return redirect(safe_next(form.next.data))


@bp.post("/logout")
@access("person")
def logout():
    db = get_session()
    end_web_session(db, current_user.token)
    db.commit()
    logout_user()
    _fresh_session()
    return redirect(url_for("account.login"))


@bp.post("/account/language")
@access("person")
def language():
    """Keep the language chosen on the account page as the person's preference (the switch
    on every page changes only the current session: a GET never writes)."""
    choice = request.form.get("locale", "")
    db = get_session()
    set_locale(db, signed_in_person(), choice or None, allowed=LOCALES)
    db.commit()
    session.pop("lang", None)  # the preference now decides
    return redirect(url_for("account.password"))


@bp.route("/account/password", methods=["GET", "POST"])
@access("person")
def password():
    form = PasswordForm()
    if request.method == "GET":
        return render_template("password.html", form=form, problem=None, done=False)
    if not form.validate_on_submit():
        return render_template("password.html", form=form, problem=None, done=False), 400
    person = signed_in_person()
    db = get_session()
    try:
        change_password(db, person, form.current.data, form.new.data,
                        settings=current_app.config["GRIDMAP"], keep_session=current_user.token)
    except AuthenticationFailed:
        return render_template("password.html", form=form, done=False, problem=_(
            "The current password was not accepted.")), 401
    except InvalidInput as exc:
        db.rollback()
        return render_template("password.html", form=form, done=False,
                               problem=exc.detail), 400
    db.commit()  # this session goes on; every other one has ended
    return render_template("password.html", form=PasswordForm(formdata=None), problem=None,
                           done=True)
