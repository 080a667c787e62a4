"""Message catalogues: extract every message, update the zh_CN and en catalogues, compile them
and export the JavaScript's part (``make translations``).

    python scripts/translations.py            # extract, update .po, compile .mo, export JSON
    python scripts/translations.py --check    # exit 1, listing what is missing or stale

Where messages are found is ``babel.cfg``, and the ``gridmap`` command's help texts are
those of its command tree (:func:`gridmap.cli_help.help_messages`); the Python keywords are gettext's plus ``msg``
(gridmap's lazy messages) and ``lazy_gettext``; the JavaScript's is ``t``. msgids are English:
an en entry left empty is filled with its msgid (edit it in en's .po to word it better),
a zh_CN entry must be translated by hand. Fuzzy matching is off: a changed English message is
a new entry to translate, never a guess. The JavaScript reads
``webapp/static/i18n/<locale>.json``: the catalogue's entries used in ``webapp/static/js``.
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
import io
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
import click
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the YAML extractor lives in layers/

from gridmap.cli import cli  # noqa: E402
from gridmap.cli_help import help_messages  # noqa: E402
from gridmap.i18n import LOCALES, TRANSLATIONS  # noqa: E402

KEYWORDS = {**DEFAULT_KEYWORDS, "msg": None, "lazy_gettext": None, "_l": None, "t": None}
JS_SOURCES = "webapp/static/js/"
JS_CATALOGUES = ROOT / "webapp" / "static" / "i18n"
PO_WIDTH = 100
#: click's modules whose messages a person of ``gridmap`` can read (not the test runner's,
#: the pager's or Windows' console).
CLICK_MODULES = ["core.py", "exceptions.py", "parser.py", "types.py", "decorators.py",
                 "formatting.py"]


def extract() -> Catalog:
    """Every message of the sources named in ``babel.cfg``, with where each is used."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    # A fixed creation date: running the script twice must not change the files.
    template = Catalog(project="gridmap", charset="utf-8",
                       creation_date=datetime(2026, 1, 1, tzinfo=timezone.utc))
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments,
                     context=context)
    # The command's help (docstrings, option help) is read through the catalogue by
    # gridmap.cli_help; the command tree itself says which texts those are.
    for message, filename, lineno in help_messages(cli):
        template.add(message, None, [(filename, lineno)],
                     auto_comments=["help of the gridmap command"])
    # click's own messages (usage errors, help headings) go through the stdlib's gettext,
    # which gridmap.cli binds to these catalogues: the installed click's are extracted.
    click_dir = Path(click.__file__).resolve().parent
    for name in CLICK_MODULES:
        for lineno, message, comments, context in extract_from_file(
                "python", str(click_dir / name), keywords={"_": None, "ngettext": (1, 2)}):
            template.add(message, None, [(f"click/{name}", lineno)],
                         auto_comments=["click's own message"], context=context)
    return template


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def read_catalogue(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="gridmap", charset="utf-8")
    with open(path, "rb") as f:
        return read_po(f, locale=locale)


def updated(template: Catalog, locale: str) -> Catalog:
    """The locale's catalogue brought up to ``template``: new entries added (en filled with
    its msgid), gone ones dropped, translations kept."""
    catalogue = read_catalogue(locale)
    catalogue.update(template, no_fuzzy_matching=True, update_header_comment=False,
                     update_creation_date=False)
    catalogue.obsolete.clear()
    catalogue.fuzzy = False  # the header: a fuzzy header is left out of the .mo
    catalogue.project, catalogue.version = "gridmap", ""
    catalogue.msgid_bugs_address = ""
    catalogue.last_translator = "gridmap contributors"
    catalogue.language_team = {"zh_CN": "简体中文", "en": "English"}.get(locale, locale)
    if locale == "en":
        for message in catalogue:
            if isinstance(message.id, (list, tuple)):
                if not all(message.string or ()):  # plural: singular, plural (English)
                    message.string = tuple(message.id)
            elif message.id and not message.string:
                message.string = message.id
    return catalogue


def po_bytes(catalogue: Catalog) -> bytes:
    out = io.BytesIO()
    # No line numbers: an edit elsewhere in a file must not rewrite every catalogue.
    write_po(out, catalogue, width=PO_WIDTH, sort_output=True, omit_header=False,
             include_previous=False, include_lineno=False)
    return out.getvalue()


def mo_bytes(catalogue: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalogue, use_fuzzy=False)
    return out.getvalue()


def js_entries(catalogue: Catalog) -> dict[str, str]:
    """The translated entries the page scripts use (``t("…")`` in static/js)."""
    return {m.id: m.string for m in catalogue
            if isinstance(m.id, str) and m.id and m.string and not m.fuzzy
            and any(path.replace("\\", "/").startswith(JS_SOURCES) for path, _ in m.locations)}


def js_bytes(catalogue: Catalog) -> bytes:
    return (json.dumps(js_entries(catalogue), ensure_ascii=False, indent=1, sort_keys=True)
            + "\n").encode("utf-8")


def _key(value):
    """A message's id or string as a dict key: plural forms come as lists or tuples."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def problems(template: Catalog, locale: str) -> list[str]:
    """What is wrong with the locale's committed catalogue, one line each."""
    found = []
    catalogue = read_catalogue(locale)
    for message in template:
        if not message.id:
            continue
        entry = catalogue.get(message.id, context=message.context)
        where = ", ".join(f"{p}:{n}" for p, n in message.locations[:2])
        if entry is None:
            found.append(f"{locale}: missing {message.id!r} ({where})")
        elif entry.fuzzy or not all(_key(entry.string) if isinstance(entry.string, (list, tuple))
                                    else [entry.string]):
            found.append(f"{locale}: {'fuzzy' if entry.fuzzy else 'empty'} {message.id!r} "
                         f"({where})")
    mo = po_path(locale).with_suffix(".mo")
    compiled = read_mo(open(mo, "rb")) if mo.exists() else Catalog()
    wanted = {_key(m.id): _key(m.string) for m in catalogue
              if m.id and m.string and not m.fuzzy}
    if {_key(m.id): _key(m.string) for m in compiled if m.id} != wanted:
        found.append(f"{locale}: {mo.relative_to(ROOT)} is not compiled from its .po")
    js = JS_CATALOGUES / f"{locale}.json"
    if not js.exists() or js.read_bytes() != js_bytes(catalogue):
        found.append(f"{locale}: {js.relative_to(ROOT)} is not exported from its .po")
    return found


def write_all(template: Catalog) -> list[str]:
    """Update, compile and export every locale; the files written."""
    written = []
    JS_CATALOGUES.mkdir(parents=True, exist_ok=True)
    for locale in LOCALES:
        catalogue = updated(template, locale)
        po = po_path(locale)
        po.parent.mkdir(parents=True, exist_ok=True)
        po.write_bytes(po_bytes(catalogue))
        with open(po, "rb") as f:  # compile what was written, exactly as it will be read
            catalogue = read_po(f, locale=locale)
        po.with_suffix(".mo").write_bytes(mo_bytes(catalogue))
        (JS_CATALOGUES / f"{locale}.json").write_bytes(js_bytes(catalogue))
        untranslated = sum(1 for m in catalogue if m.id and (not m.string or m.fuzzy))
        written.append(f"{po.relative_to(ROOT)}: {len(catalogue)} messages, "
                       f"{untranslated} to translate")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="report missing, empty, fuzzy or uncompiled entries; write nothing")
    args = parser.parse_args(argv)
    template = extract()
    if args.check:
        found = [line for locale in LOCALES for line in problems(template, locale)]
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    for line in write_all(template):
        print(f"translations: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
