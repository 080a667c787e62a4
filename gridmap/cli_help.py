"""The ``gridmap`` command's help in the catalogues: click classes whose help texts are msgids.

Every command, group, option and argument of ``gridmap`` is made with the decorators of this
module (:func:`command`, :func:`group`, :func:`option`, :func:`argument`) or by a group of
it (``@db.command()``). Their ``help`` and ``short_help`` keep the English text written in
the code (the docstring, ``help="…"``) and read it through the catalogue each time click
formats help, so ``gridmap --help`` is in the CLI's locale (:func:`gridmap.i18n.set_locale`,
set once by ``main``) and exactly the English text when that locale is English.

The msgids are the texts as click shows them (docstrings cleaned by :func:`inspect.cleandoc`,
up to a ``\\f``); :func:`help_messages` lists them by walking the command tree, which is how
``make translations`` extracts them (``scripts/translations.py``).
"""
from __future__ import annotations

import functools
import inspect
import unicodedata
from pathlib import Path
from typing import Iterator

import click

from gridmap.i18n import translate


def help_msgid(text: str | None) -> str | None:
    """The msgid of a help text: as click shows it (cleaned, the part before ``\\f``)."""
    if not text:
        return text
    return inspect.cleandoc(text).partition("\f")[0]


def _translated(name: str) -> property:
    """An attribute kept in English and read in the locale in force."""
    stored = f"_english_{name}"

    def get(self):
        return translate(help_msgid(getattr(self, stored, None)))

    def set_(self, value):
        setattr(self, stored, value)

    return property(get, set_, doc=f"``{name}`` in the locale in force (English as written).")


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def first_sentence(text: str, limit: int) -> str:
    """The short help of a translated help text: its first sentence (up to 。), cut with …
    to ``limit`` columns (a Chinese character takes two)."""
    first = text.split("\n\n")[0].replace("\n", "")
    sentence = first.split("。")[0] + ("。" if "。" in first else "")
    if columns(sentence) <= limit:
        return sentence
    while sentence and columns(sentence) > limit - 1:
        sentence = sentence[:-1]
    return sentence + "…"


class Option(click.Option):
    """A ``click.Option`` whose help text is read through the catalogue."""

    help = _translated("help")


class Argument(click.Argument):
    """A ``click.Argument`` whose help text is read through the catalogue."""

    help = _translated("help")


class Command(click.Command):
    """A ``click.Command`` whose help and short help are read through the catalogue."""

    help = _translated("help")
    short_help = _translated("short_help")

    def get_short_help_str(self, limit: int = 45) -> str:
        shown, english = self.help, help_msgid(getattr(self, "_english_help", None))
        if (getattr(self, "_english_short_help", None) or not shown or shown == english
                or columns(shown) == len(shown)):
            return super().get_short_help_str(limit)
        # click shortens text at the first ". " and between words, and counts a character as
        # one column; Chinese has no spaces, ends sentences with 。 and takes two columns.
        return first_sentence(shown, limit)


class Group(Command, click.Group):
    """A ``click.Group`` like :class:`Command`; its subcommands and subgroups are too."""

    command_class = Command
    group_class = type  # a subgroup is of this class


command = functools.partial(click.command, cls=Command)
group = functools.partial(click.group, cls=Group)
option = functools.partial(click.option, cls=Option)
argument = functools.partial(click.argument, cls=Argument)


def walk(cmd: click.Command) -> Iterator[click.Command]:
    """``cmd`` and every command below it, depth first."""
    yield cmd
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from walk(cmd.commands[name])


def help_messages(root: click.Command) -> Iterator[tuple[str, str, int]]:
    """Every help text under ``root`` as ``(msgid, file, line)``, for extraction; the file is
    the command's source, relative to the repository when it is inside it."""
    repo = Path(__file__).resolve().parent.parent
    for cmd in walk(root):
        callback = inspect.unwrap(cmd.callback) if cmd.callback else None
        code = getattr(callback, "__code__", None)
        where = Path(code.co_filename) if code else Path(__file__)
        line = code.co_firstlineno if code else 1
        with_repo = where.resolve()
        path = (str(with_repo.relative_to(repo)) if with_repo.is_relative_to(repo)
                else str(where))
        texts = [getattr(cmd, "_english_help", None), getattr(cmd, "_english_short_help", None)]
        texts += [getattr(p, "_english_help", None) for p in cmd.params]
        for text in texts:
            if help_msgid(text):
                yield help_msgid(text), path, line
