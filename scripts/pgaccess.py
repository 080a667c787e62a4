"""The access ``scripts/ensure-db.sh`` grants on a local cluster, and its removal.

No ``trust``. A URL over TCP to a loopback address without a password gets a generated password
on its role (only when the role has none), kept in the caller's password file (``~/.pgpass`` or
``$PGPASSFILE``, mode 0600), so that only that login can use it; the cluster's access rules are
not touched. A URL over a Unix socket gets ``peer`` authentication mapped in ``pg_ident.conf``
from the login name (root, say) to the database user, and from that user to itself, so that
the ``postgres`` system user keeps the access it had. Everything written is marked with
:data:`MARK` so that ``--undo`` removes exactly that, and nothing an administrator wrote. Names
are double-quoted (``"`` doubled), so that ``all``, ``+``, ``@``, spaces, commas and ``#`` lose
their special meaning.

Usage (system ``python3``, standard library only)::

    pgaccess.py add-peer URL HBA_FILE IDENT_FILE      # prints what it added (nothing if present)
    pgaccess.py remove-peer HBA_FILE IDENT_FILE [URL] # prints what it removed
    pgaccess.py add-pgpass URL PASSFILE               # prints the new password
    pgaccess.py remove-pgpass PASSFILE [URL]          # prints entry_host=… per removed entry
"""
from __future__ import annotations

import getpass
import secrets
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from marked_lines import add_lines, read_lines, remove_lines, write_like  # noqa: E402
from pgurl import Target, URLError, parse  # noqa: E402

MARK = "# gridmap:ensure-db"
IDENT_MAP = "gridmap"
# What an earlier ensure-db.sh wrote: trust for every user and database. Removed on --undo.
LEGACY_BLOCK = ["# gridmap-local-trust", "host all all 127.0.0.1/32 trust",
                "host all all ::1/128 trust"]


class AccessError(ValueError):
    """A name no access file can hold, or a target that is not on this machine."""


def quote_name(name: str) -> str:
    """A database or user name as a quoted pg_hba.conf / pg_ident.conf token."""
    if not name or any(c in name for c in "\n\r\0"):
        raise AccessError(f"name {name!r} is empty or has a line break; "
                          "expected a name that fits on one line of an access file")
    return '"' + name.replace('"', '""') + '"'


def _require(target: Target, locality: str) -> None:
    if target.locality != locality:
        raise AccessError(f"{target.display()} is not a {locality} address of this machine; "
                          "expected " + ("127.0.0.1, ::1 or localhost" if locality == "tcp"
                                         else "a Unix socket directory"))


def peer_rules(target: Target, os_user: str) -> tuple[list[str], list[str]]:
    """pg_hba.conf and pg_ident.conf lines letting ``os_user`` in as the target's user.

    Every database: peer authentication proves the login, and only that login gets in.
    """
    _require(target, "socket")
    user = quote_name(target.user)
    ident = [f"{IDENT_MAP} {quote_name(name)} {user}  {MARK}"
             for name in dict.fromkeys([os_user, target.user])]
    return [f"local all {user} peer map={IDENT_MAP}  {MARK}"], ident


def _pgpass_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def pgpass_lines(target: Target, password: str) -> list[str]:
    """The marker comment and the password-file entry for the target's host, port and user."""
    _require(target, "tcp")
    quote_name(target.user)  # refuses line breaks
    fields = [target.host, str(target.port), "*", target.user, password]
    return [f"{MARK} password set on role {target.user} at {target.host}:{target.port};"
            " undo: make db-untrust",
            ":".join(_pgpass_escape(field) for field in fields)]


def _pgpass_fields(entry: str) -> list[str]:
    fields, current, escaped = [], "", False
    for char in entry:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char == ":" and len(fields) < 4:
            fields, current = fields + [current], ""
        else:
            current += char
    return fields + [current]


def remove_pgpass(path: Path, target: Target | None = None) -> list[list[str]]:
    """Remove marked entries (only the target's host, port and user, when given).

    Returns
    -------
    list of list of str
        The removed entries as ``[host, port, database, user, password]``.
    """
    if not path.exists():
        return []
    lines, final_newline = read_lines(path)
    keep, removed, i = [], [], 0
    while i < len(lines):
        if lines[i].startswith(MARK) and i + 1 < len(lines):
            fields = _pgpass_fields(lines[i + 1])
            if target is None or fields[:2] + fields[3:4] == [
                    target.host, str(target.port), target.user]:
                removed.append(fields)
                i += 2
                continue
        keep.append(lines[i])
        i += 1
    if removed:
        write_like(path, keep, final_newline)
    return removed


def add_pgpass(path: Path, target: Target) -> str:
    """Put a new generated password for the target at the top of the password file."""
    remove_pgpass(path, target)  # a stale one: the role's password was reset since
    password = secrets.token_urlsafe(24)
    if not path.exists():
        path.touch(mode=0o600)
    add_lines(path, pgpass_lines(target, password))
    return password


def _report(verb: str, path: Path, lines: list[str]) -> str:
    if not lines:
        return ""
    return f"gridmap: {verb} {path}:\n" + "".join(f"    {line}\n" for line in lines)


def _run(command: str, args: list[str]) -> str:
    if command == "add-peer" and len(args) == 3:
        hba, ident = peer_rules(parse(args[0]), getpass.getuser())
        return (_report("added at the top of", Path(args[1]), add_lines(Path(args[1]), hba))
                + _report("added at the top of", Path(args[2]), add_lines(Path(args[2]), ident)))
    if command == "remove-peer" and len(args) in (2, 3):
        hba = ident = None
        if len(args) == 3:
            hba, ident = peer_rules(parse(args[2]), getpass.getuser())
        out = _report("removed from", Path(args[0]), remove_lines(Path(args[0]), MARK, hba,
                                                                  legacy=LEGACY_BLOCK))
        if Path(args[1]).exists():
            out += _report("removed from", Path(args[1]), remove_lines(Path(args[1]), MARK,
                                                                       ident))
        return out
    if command == "add-pgpass" and len(args) == 2:
        return add_pgpass(Path(args[1]), parse(args[0])) + "\n"
    if command == "remove-pgpass" and len(args) in (1, 2):
        target = parse(args[1]) if len(args) == 2 else None
        names = ("entry_host", "entry_port", None, "entry_user", "entry_password")
        return "".join(" ".join(f"{name}={shlex.quote(value)}" for name, value in zip(
            names, fields) if name) + "\n" for fields in remove_pgpass(Path(args[0]), target))
    raise AccessError("usage: pgaccess.py add-peer URL HBA IDENT | remove-peer HBA IDENT [URL]"
                      " | add-pgpass URL PASSFILE | remove-pgpass PASSFILE [URL]")


def main(argv: list[str]) -> int:
    """Print what changed (see the module's usage); one line on stderr and 2 on bad input."""
    try:
        out = _run(argv[0] if argv else "", argv[1:])
    except (URLError, AccessError, OSError) as error:
        print(f"gridmap: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
