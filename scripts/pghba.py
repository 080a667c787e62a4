"""The access rules ``scripts/ensure-db.sh`` adds to a local cluster, and their removal.

Every line written ends with :data:`MARK`, so that ``--undo`` removes exactly what was added and
nothing an administrator wrote. Rules are as narrow as the connection needs: one database, one
user, and for TCP only the loopback address the URL names (``trust``: the URL has no password);
for a Unix socket, ``peer`` authentication, mapped in ``pg_ident.conf`` when the login name
differs from the database user. Names are double-quoted (``"`` doubled), so that ``all``, a
leading ``+`` or ``@``, spaces, commas and ``#`` lose their special meaning.

Usage (system ``python3``, standard library only)::

    pghba.py add URL HBA_FILE IDENT_FILE       # prints the lines added (none when present)
    pghba.py remove HBA_FILE IDENT_FILE [URL]  # all marked lines, or only those for URL
"""
from __future__ import annotations

import getpass
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgurl import Target, URLError, parse  # noqa: E402  (a script beside this one)

MARK = "# gridmap:ensure-db"
IDENT_MAP = "gridmap"
# What an earlier ensure-db.sh wrote: trust for every user and database. Removed on --undo.
LEGACY_BLOCK = ["# gridmap-local-trust", "host all all 127.0.0.1/32 trust",
                "host all all ::1/128 trust"]
_LOOPBACK = {"127.0.0.1": ["127.0.0.1/32"], "::1": ["::1/128"],
             "localhost": ["127.0.0.1/32", "::1/128"]}


class RuleError(ValueError):
    """A name that no pg_hba.conf line can hold."""


def quote_name(name: str) -> str:
    """A database or user name as a quoted pg_hba.conf / pg_ident.conf token."""
    if any(c in name for c in "\n\r\0") or not name:
        raise RuleError(f"name {name!r} is empty or has a line break; "
                        "expected a name that fits on one pg_hba.conf line")
    return '"' + name.replace('"', '""') + '"'


def rules_for(target: Target, os_user: str) -> tuple[list[str], list[str]]:
    """The pg_hba.conf and pg_ident.conf lines that let ``os_user`` reach ``target``.

    Returns
    -------
    (list of str, list of str)
        Marked lines for pg_hba.conf, then for pg_ident.conf (often none).
    """
    db, user = quote_name(target.dbname), quote_name(target.user)
    if target.locality == "tcp":
        return [f"host {db} {user} {address} trust  {MARK}"
                for address in _LOOPBACK[target.host.lower()]], []
    if target.locality == "socket":
        if os_user == target.user:
            return [f"local {db} {user} peer  {MARK}"], []
        return ([f"local {db} {user} peer map={IDENT_MAP}  {MARK}"],
                [f"{IDENT_MAP} {quote_name(os_user)} {user}  {MARK}"])
    raise RuleError(f"{target.display()} is not on this machine; "
                    "expected 127.0.0.1, ::1, localhost or a Unix socket")


def _write_like(path: Path, lines: list[str], final_newline: bool) -> None:
    """Replace ``path`` atomically, keeping its owner and mode (the server must read it)."""
    stat = path.stat()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as out:
            out.write("\n".join(lines) + ("\n" if final_newline and lines else ""))
        os.chmod(tmp, stat.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(tmp, stat.st_uid, stat.st_gid)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _read(path: Path) -> tuple[list[str], bool]:
    """The lines as PostgreSQL splits them (on newlines only), and whether the last ends one.

    Bytes that are not UTF-8 are kept as they are (surrogate escapes), so that a rewrite changes
    nothing but the lines added or removed.
    """
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    lines = text.split("\n")
    final_newline = text.endswith("\n") or not text
    if final_newline:
        lines.pop()
    return lines, final_newline


def add_lines(path: Path, new: list[str]) -> list[str]:
    """Put the ``new`` lines that are missing at the top of ``path`` (first match wins).

    Returns
    -------
    list of str
        The lines added, in file order; empty when all were there (idempotent).
    """
    old, final_newline = _read(path)
    missing = [line for line in new if line not in old]
    if missing:
        _write_like(path, missing + old, final_newline or not old)
    return missing


def remove_lines(path: Path, only: list[str] | None = None) -> list[str]:
    """Remove the marked lines (``only`` those, when given) and the legacy block.

    Returns
    -------
    list of str
        The lines removed, in file order.
    """
    old, final_newline = _read(path)
    keep, removed, i = [], [], 0
    while i < len(old):
        if only is None and old[i:i + len(LEGACY_BLOCK)] == LEGACY_BLOCK:
            removed += LEGACY_BLOCK
            i += len(LEGACY_BLOCK)
            continue
        marked = old[i].rstrip().endswith(MARK)
        (removed if marked and (only is None or old[i] in only) else keep).append(old[i])
        i += 1
    if removed:
        _write_like(path, keep, final_newline)
    return removed


def _report(verb: str, path: Path, lines: list[str]) -> str:
    if not lines:
        return ""
    return f"gridmap: {verb} {path}:\n" + "".join(f"    {line}\n" for line in lines)


def main(argv: list[str]) -> int:
    """Print what was added or removed (nothing when nothing changed); 2 on bad input."""
    try:
        if len(argv) == 4 and argv[0] == "add":
            hba, ident = rules_for(parse(argv[1]), getpass.getuser())
            out = _report("added at the top of", Path(argv[2]), add_lines(Path(argv[2]), hba))
            if ident:
                out += _report("added to", Path(argv[3]), add_lines(Path(argv[3]), ident))
        elif len(argv) in (3, 4) and argv[0] == "remove":
            hba = ident = None
            if len(argv) == 4:
                hba, ident = rules_for(parse(argv[3]), getpass.getuser())
            out = _report("removed from", Path(argv[1]), remove_lines(Path(argv[1]), hba))
            if Path(argv[2]).exists() and (ident is None or ident):
                out += _report("removed from", Path(argv[2]), remove_lines(Path(argv[2]), ident))
        else:
            print("usage: pghba.py add URL HBA IDENT | remove HBA IDENT [URL]", file=sys.stderr)
            return 2
    except (URLError, RuleError, OSError) as error:
        print(f"gridmap: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
