"""The page's language: zh-CN by default, English on request (Flask-Babel).

The locale is chosen per request, first match wins: the ``lang`` the visitor picked with the
switch on every page (kept in the signed session), the signed-in person's preference, the
browser's ``Accept-Language``, then zh-CN. The catalogues live in ``gridmap/translations`` so
that the CLI (which must not import Flask) reads the same ones.

Templates use ``_()``/``gettext`` and flask_babel's ``format_*`` functions; lazy messages of
``gridmap`` (``gridmap.i18n.msg``) render in the request's locale, which is put in force for
the request (``gridmap.i18n.set_locale``) before any view runs. The JavaScript reads the same
catalogue exported to ``static/i18n/<locale>.json`` (``scripts/translations.py``), embedded in
every page (:func:`js_catalogue`).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, Domain, format_date, format_datetime, format_decimal
from flask_babel import format_number, get_locale

from gridmap.i18n import (DEFAULT_LOCALE, LOCALES, TRANSLATIONS, catalogue, reset_locale,
                          set_locale)

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


def request_locale() -> str:
    """The locale of the current request as a plain string (zh_CN outside a request)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    chosen = get_locale()  # Babel's Locale: zh_CN is parsed as zh_Hans_CN
    if chosen is None:
        return DEFAULT_LOCALE
    return "zh_CN" if chosen.language == "zh" else "en"


#: The JavaScript's part of each catalogue (``make translations`` exports it).
JS_CATALOGUES = Path(__file__).resolve().parent / "static" / "i18n"


@functools.lru_cache(maxsize=None)
def _js_catalogue(locale: str) -> dict[str, str]:
    try:
        return json.loads((JS_CATALOGUES / f"{locale}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # the scripts then show the English msgids


def js_catalogue() -> dict[str, str]:
    """The page scripts' messages in the request's locale, embedded in every page as JSON
    data (not script: the CSP holds), so the scripts translate without waiting for a fetch."""
    return _js_catalogue(request_locale())


class _SharedCatalogues(Domain):
    """Flask-Babel's domain reading gridmap's catalogues (``gridmap.i18n.catalogue``): one
    cache shared with the CLI, and the catalogue folder named zh_CN as the locale is written,
    where Flask-Babel would look for Babel's normalised ``zh_Hans_CN``."""

    def get_translations(self):
        return catalogue(request_locale())


def _locale_in_force() -> None:
    # Lazy messages rendered with str() during the request (logs, a view building a text)
    # speak the request's language too.
    g.gridmap_locale_token = set_locale(request_locale())


def _locale_done(exc: BaseException | None = None) -> None:
    token = g.pop("gridmap_locale_token", None)
    if token is not None:
        reset_locale(token)


def _template_helpers() -> dict:
    locale = request_locale()
    return {"locale": locale, "js_catalogue": js_catalogue,
            "format_number": format_number, "format_decimal": format_decimal,
            "format_date": format_date, "format_datetime": format_datetime}



def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LOCALE
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["GRIDMAP"]["timezone"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    babel = Babel(app, locale_selector=select_locale)
    babel.domain_instance = _SharedCatalogues()
    app.before_request(_locale_in_force)
    app.teardown_request(_locale_done)
    app.context_processor(_template_helpers)
    app.jinja_env.globals.update(language_tag=language_tag, switch_url=switch_url,
                                 switch_links=SWITCH_LINKS)
