"""The page's language: zh-CN by default, English on request (Flask-Babel).

The locale is chosen per request, first match wins: the ``lang`` the visitor picked with the
switch on every page (kept in the signed session), the signed-in person's preference, the
browser's ``Accept-Language``, then zh-CN. The catalogues live in ``gridmap/translations`` so
that the CLI (which must not import Flask) reads the same ones.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

from gridmap.i18n import DEFAULT_LOCALE, LOCALES, TRANSLATIONS

#: ``?lang=`` values accepted by the switch, mapped to a supported locale.
_SWITCH = {"zh": "zh_CN", "zh-CN": "zh_CN", "zh_CN": "zh_CN", "en": "en"}


def requested_locale() -> str | None:
    """The locale picked with the switch on this request (``?lang=``), if any."""
    return _SWITCH.get(request.args.get("lang", ""))


def select_locale() -> str:
    """The locale of this request (see the module docstring)."""
    picked = requested_locale()
    if picked:
        session["lang"] = picked
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    preference = getattr(g, "person_locale", None)
    if preference in LOCALES:
        return preference
    return request.accept_languages.best_match(LOCALES, default=DEFAULT_LOCALE) \
        or DEFAULT_LOCALE


#: The switch on every page: ``?lang=`` value, BCP 47 tag, the language's own name.
SWITCH_LINKS = (("zh", "zh-CN", "中文"), ("en", "en", "English"))


def language_tag() -> str:
    """The page's language as a BCP 47 tag (``zh-CN``, ``en``) for ``<html lang>``."""
    locale = get_locale()
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


def switch_url(value: str) -> str:
    """This page's address with ``lang=value`` (other parameters kept)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [value]
    return request.path + "?" + urlencode(args, doseq=True)


def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LOCALE
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(language_tag=language_tag, switch_url=switch_url,
                                 switch_links=SWITCH_LINKS)
