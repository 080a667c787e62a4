"""Lines added to, and removed from, a configuration file that others also edit.

Used by ``scripts/pgaccess.py`` on pg_hba.conf, pg_ident.conf and the password file. Lines are
split as PostgreSQL splits them (on newlines only); bytes that are not UTF-8 are kept as they
are (surrogate escapes), and the file keeps its owner, mode and final newline, so that adding
lines and removing them again restores the file byte for byte.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def read_lines(path: Path) -> tuple[list[str], bool]:
    """The lines of ``path`` and whether the last one ends with a newline."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    lines = text.split("\n")
    final_newline = text.endswith("\n") or not text
    if final_newline:
        lines.pop()
    return lines, final_newline


def write_like(path: Path, lines: list[str], final_newline: bool) -> None:
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


def add_lines(path: Path, new: list[str]) -> list[str]:
    """Put the ``new`` lines that are missing at the top of ``path`` (first match wins).

    Returns
    -------
    list of str
        The lines added, in file order; empty when all were there (idempotent).
    """
    old, final_newline = read_lines(path)
    missing = [line for line in new if line not in old]
    if missing:
        write_like(path, missing + old, final_newline or not old)
    return missing


def remove_lines(path: Path, mark: str, only: list[str] | None = None, *,
                 legacy: list[str] | None = None) -> list[str]:
    """Remove the lines ending with ``mark`` (``only`` those, when given).

    Parameters
    ----------
    path : Path
    mark : str
        The comment every added line ends with.
    only : list of str, optional
        Remove just these lines (when marked); all marked lines when not given.
    legacy : list of str, optional
        A block of consecutive lines to remove as well, when ``only`` is not given.

    Returns
    -------
    list of str
        The lines removed, in file order.
    """
    old, final_newline = read_lines(path)
    keep, removed, i = [], [], 0
    while i < len(old):
        if legacy and only is None and old[i:i + len(legacy)] == legacy:
            removed += legacy
            i += len(legacy)
            continue
        marked = old[i].rstrip().endswith(mark)
        (removed if marked and (only is None or old[i] in only) else keep).append(old[i])
        i += 1
    if removed:
        write_like(path, keep, final_newline)
    return removed
