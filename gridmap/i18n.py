"""Message catalogues shared by the CLI and the web app (which reads them through Flask-Babel).

The catalogues are ``gridmap/translations/<locale>/LC_MESSAGES/messages.po`` (compiled to
``.mo``; ``make translations`` extracts, updates and compiles them). zh_CN is the default
locale; en is the other. msgids are English.

A message that a user reads is written once, where it is raised, as a *lazy* message::

    raise InvalidInput(msg("bbox {raw!r}: expected four numbers", raw=raw))

:func:`msg` keeps the English template and its values; the text is chosen when the message is
shown: the web app renders it in the request's locale (``webapp/errors.py``), the CLI in the
locale of its environment (:func:`locale_from_environment`). ``str()`` of a message renders it
in the locale in force (:func:`use_locale`), English unless set — so logs and tests that do not
care stay as they were.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT_LOCALE = "zh_CN"
LOCALES = ["zh_CN", "en"]
#: The locale of plain ``str(message)`` when nobody chose one (the msgids are English).
FALLBACK_LOCALE = "en"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("gridmap_locale",
                                                                default=FALLBACK_LOCALE)


@functools.lru_cache(maxsize=None)
def catalogue(locale: str) -> NullTranslations:
    """The compiled catalogue of ``locale`` (an identity catalogue for an unknown locale)."""
    if locale not in LOCALES:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [locale])


def translate(text: str, locale: str | None = None) -> str:
    """``text`` (an English msgid) in ``locale`` (default: the locale in force)."""
    if not text:
        return text  # gettext("") is the catalogue's header, never a translation
    return catalogue(locale or current_locale()).gettext(text)


def gettext(text: str) -> str:
    """``text`` in the locale in force (marks the string for extraction too)."""
    return translate(text)


def N_(text: str) -> str:  # noqa: N802 — the gettext convention for "mark, do not translate"
    """Mark ``text`` for extraction without translating it (class attributes, tables)."""
    return text


class Message(str):
    """A user-facing message kept as an English template and its values until shown.

    It is a ``str`` whose value is the English text, so code that only passes it along (logs,
    ``in`` tests, JSON of a caller that forgot to render) keeps working; ``str()`` and
    formatting render it in the locale in force, :meth:`render` in the locale asked for.

    Parameters
    ----------
    template
        The msgid: English, with ``str.format`` fields (``{raw!r}``, ``{count}``).
    values
        The fields' values. Values that are themselves :class:`Message` are rendered in the
        same locale.
    """

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, values: Mapping[str, Any] | None = None) -> "Message":
        values = dict(values or {})
        self = super().__new__(cls, _fill(template, template, values, FALLBACK_LOCALE))
        self.template = template
        self.values = values
        return self

    def render(self, locale: str | None = None) -> str:
        """The message in ``locale`` (default: the locale in force)."""
        locale = locale or current_locale()
        return _fill(translate(self.template, locale), self.template, self.values, locale)

    def __str__(self) -> str:
        return self.render()

    def __format__(self, spec: str) -> str:
        return format(self.render(), spec)

    def __repr__(self) -> str:
        return f"msg({self.template!r}, **{self.values!r})"

    def __reduce__(self):
        return (Message, (self.template, self.values))


def _fill(text: str, template: str, values: Mapping[str, Any], locale: str) -> str:
    if not values:
        return text
    values = {k: v.render(locale) if isinstance(v, Message) else v for k, v in values.items()}
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        # A translation naming a field the code does not give must not hide the error being
        # reported: fall back to the English template.
        return template.format(**values)


class Joined(Message):
    """Messages (or plain strings) shown one after another, each rendered in the locale asked
    for: ``"; ".join(messages)`` would keep their English text (``join`` reads a ``str``'s
    value, never its ``__str__``).

    Parameters
    ----------
    parts
        The messages, in order.
    separator
        What goes between two of them.
    """

    parts: tuple
    separator: str

    def __new__(cls, parts: Iterable[str | Message], separator: str = "; ") -> "Joined":
        parts = tuple(parts)
        self = str.__new__(cls, separator.join(render(p, FALLBACK_LOCALE) for p in parts))
        self.template, self.values = separator, {}
        self.parts, self.separator = parts, separator
        return self

    def render(self, locale: str | None = None) -> str:
        locale = locale or current_locale()
        return self.separator.join(render(p, locale) for p in self.parts)

    def __repr__(self) -> str:
        return f"joined({self.parts!r}, {self.separator!r})"

    def __reduce__(self):
        return (Joined, (self.parts, self.separator))


def joined(parts: Iterable[str | Message], separator: str = "; ") -> Joined:
    """``parts`` one after another, ``separator`` between them, each in the reader's locale
    (see :class:`Joined`)."""
    return Joined(parts, separator)


def msg(template: str, **values: Any) -> Message:
    """A lazy message: ``template`` (an English msgid) and its ``values`` (see the module)."""
    return Message(template, values)


def render(text: str | Message, locale: str | None = None) -> str:
    """``text`` as a user reads it in ``locale``: a :class:`Message` is translated, a plain
    string (a library's message, a name) is shown as it is."""
    return text.render(locale) if isinstance(text, Message) else str(text)


def current_locale() -> str:
    """The locale in force in this context (see :func:`use_locale`)."""
    return _current.get()


@contextlib.contextmanager
def use_locale(locale: str) -> Iterator[str]:
    """Render messages in ``locale`` inside the ``with`` block."""
    token = _current.set(locale if locale in LOCALES else FALLBACK_LOCALE)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_locale(locale: str) -> contextvars.Token:
    """Render messages in ``locale`` from now on in this context (the CLI once at start, the
    web app per request); the token undoes it (:func:`reset_locale`)."""
    return _current.set(locale if locale in LOCALES else FALLBACK_LOCALE)


def reset_locale(token: contextvars.Token) -> None:
    """Undo a :func:`set_locale`."""
    try:
        _current.reset(token)
    except ValueError:  # set in another context (a thread's): leave that context alone
        _current.set(FALLBACK_LOCALE)


def _supported(name: str) -> str | None:
    """``zh_CN.UTF-8``, ``zh-Hans``, ``zh`` → zh_CN; ``en_GB`` → en; others → None."""
    base = name.split(".")[0].split("@")[0].replace("-", "_")
    language = base.split("_")[0].lower()
    if language == "zh":
        return "zh_CN"
    if language == "en":
        return "en"
    return None


def locale_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The CLI's locale, by GNU gettext's rule.

    The locale category is the first non-empty of ``LC_ALL``, ``LC_MESSAGES``, ``LANG``. When
    it is ``C``/``POSIX`` or none is set, messages are English and ``LANGUAGE`` is ignored (as
    gettext does). Otherwise ``LANGUAGE`` (a colon-separated priority list), when set, wins
    over it. The first supported language found is used; none → English.
    """
    env = os.environ if environ is None else environ
    category = next((env[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(k)), "")
    if category.split(".")[0] in ("", "C", "POSIX"):
        return "en"
    for name in [*env.get("LANGUAGE", "").split(":"), category]:
        found = _supported(name) if name else None
        if found:
            return found
    return "en"
