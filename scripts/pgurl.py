"""Parse a PostgreSQL URL the way libpq does, for ``scripts/ensure-db.sh``.

Runs on the system's ``python3`` with the standard library only: it is needed before the
project's virtual environment exists. ``python3 scripts/pgurl.py URL`` prints shell assignments
(each value quoted with :func:`shlex.quote`) for ``eval``; ``pgurl.py --dbname NAME URL`` prints
the URL of database NAME on the same server. A URL it cannot read gets one line on stderr and
exit status 2.

Accepted: ``postgresql://`` and ``postgres://`` URLs, SQLAlchemy's ``postgresql+DRIVER://``,
percent-encoded user, password, host and database, ``[::1]`` IPv6 hosts, and query parameters
(``host=/var/run/postgresql``, ``port=``, ``user=``, ``dbname=``, ``connect_timeout=`` …) which,
as in libpq, override the parts before them. What the URL leaves out comes from ``PGHOST``,
``PGPORT``, ``PGUSER`` and ``PGDATABASE`` and then libpq's defaults (Unix socket, 5432, the
login name, the user name).
"""
from __future__ import annotations

import getpass
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_TIMEOUT = 5  # seconds; libpq waits forever by default, a set-up script should not
_SCHEME = re.compile(r"^(postgresql|postgres)(\+[A-Za-z0-9_]+)?$")


class URLError(ValueError):
    """A URL this script cannot read; the message says what was received and expected."""


@dataclass(frozen=True)
class Target:
    """Where a PostgreSQL URL points and as whom.

    Attributes
    ----------
    host : str
        Host name or address, or a directory (starting with ``/`` or ``@``) for a Unix socket.
    port : int
    user : str
    dbname : str
    password : str or None
    params : dict
        Every other libpq connection parameter given in the query string (``sslmode`` …).
    """

    host: str
    port: int
    user: str
    dbname: str
    password: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def locality(self) -> str:
        """``"socket"``, ``"tcp"`` (a loopback name or address) or ``""`` (anywhere else)."""
        if self.host.startswith(("/", "@")):
            return "socket"
        return "tcp" if self.host.lower() in LOCAL_HOSTS else ""

    @property
    def timeout(self) -> int:
        """Seconds to wait for a server, from ``connect_timeout`` when given."""
        value = self.params.get("connect_timeout", "")
        return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_TIMEOUT

    def conninfo(self, dbname: str | None = None) -> str:
        """A libpq keyword/value string for this target, or for ``dbname`` on the same server."""
        pairs = {"host": self.host, "port": str(self.port), "user": self.user,
                 "dbname": self.dbname if dbname is None else dbname,
                 "connect_timeout": str(self.timeout), **self.params}
        if self.password is not None:
            pairs["password"] = self.password
        return " ".join(f"{key}={quote_conninfo_value(value)}" for key, value in pairs.items())

    def display(self) -> str:
        """The target for messages: ``user@host:port/dbname``, never the password."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user}@{host}:{self.port}/{self.dbname}"


    def url(self, dbname: str | None = None) -> str:
        """A ``postgresql://`` URL for this target, or for ``dbname`` on the same server."""
        query = dict(self.params)
        if self.password is not None:
            query["password"] = self.password
        if self.locality == "socket":
            netloc, query = "", {"host": self.host, "port": str(self.port), **query}
        else:
            netloc = f"[{self.host}]" if ":" in self.host else quote(self.host, safe="")
            netloc += f":{self.port}"
        path = quote(self.dbname if dbname is None else dbname, safe="")
        url = f"postgresql://{quote(self.user, safe='')}@{netloc}/{path}"
        pairs = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())
        return url + ("?" + pairs if pairs else "")


def quote_conninfo_value(value: str) -> str:
    """Quote a value for a libpq keyword/value connection string."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _split_host_port(hostspec: str) -> tuple[str, str]:
    if hostspec.startswith("["):
        end = hostspec.find("]")
        if end < 0:
            raise URLError(f"unclosed '[' in host {hostspec!r}; expected [IPv6]:port")
        rest = hostspec[end + 1:]
        if rest and not rest.startswith(":"):
            raise URLError(f"unexpected {rest!r} after {hostspec[:end + 1]!r}; expected :port")
        return hostspec[1:end], rest[1:]
    host, _, port = hostspec.partition(":")
    return host, port


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """``key=value&…`` percent-decoded; unlike HTML forms, libpq keeps ``+`` as it is."""
    pairs = []
    for item in filter(None, query.split("&")):
        key, sep, value = item.partition("=")
        if not sep:
            raise URLError(f"query parameter {key!r} has no value; expected key=value")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def parse(url: str, environ: dict[str, str] | None = None) -> Target:
    """Read ``url`` as libpq would.

    Parameters
    ----------
    url : str
        A ``postgresql://`` URL (SQLAlchemy's ``postgresql+psycopg://`` is accepted too).
    environ : dict, optional
        Where ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGDATABASE`` come from; ``os.environ``
        when not given.

    Returns
    -------
    Target

    Raises
    ------
    URLError
        When ``url`` is not a PostgreSQL URL, names several hosts, or has a bad port.
    """
    env = os.environ if environ is None else environ
    scheme, sep, _ = url.partition("://")
    if not sep or not _SCHEME.match(scheme):
        raise URLError(f"expected a postgresql:// URL, got {url.split('@')[-1]!r}")
    rest = url[len(scheme) + 3:]
    netloc = re.match(r"[^/?]*", rest).group()
    path, _, query = rest[len(netloc):].partition("?")
    userinfo, _, hostspec = netloc.rpartition("@")
    if "," in hostspec:
        raise URLError(f"several hosts in {hostspec!r}; expected one host")
    user, colon, password_text = userinfo.partition(":")
    password = unquote(password_text) if colon else None
    host, port = _split_host_port(hostspec)
    values = {"host": unquote(host), "port": port, "user": unquote(user),
              "dbname": unquote(path[1:])}
    params: dict[str, str] = {}
    for key, value in _query_pairs(query):
        if key == "password":
            password = value
        elif key in values:
            values[key] = value
        else:
            params[key] = value
    if "," in values["host"]:
        raise URLError(f"several hosts in {values['host']!r}; expected one host")
    host = values["host"] or env.get("PGHOST") or "/var/run/postgresql"
    port = values["port"] or env.get("PGPORT") or "5432"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise URLError(f"port {port!r} is not a number from 1 to 65535")
    user = values["user"] or env.get("PGUSER") or getpass.getuser()
    dbname = values["dbname"] or env.get("PGDATABASE") or user
    return Target(host=host, port=int(port), user=user, dbname=dbname, password=password,
                  params=params)


def shell_assignments(target: Target) -> str:
    """Lines ``name=value`` for ``eval`` in bash, each value shell-quoted."""
    values = {
        "pg_host": target.host, "pg_port": str(target.port), "pg_user": target.user,
        "pg_db": target.dbname, "pg_local": target.locality, "pg_timeout": str(target.timeout),
        "pg_has_password": "1" if target.password is not None else "",
        "pg_conninfo": target.conninfo(), "pg_server_conninfo": target.conninfo("postgres"),
        "pg_display": target.display(),
    }
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items())


def main(argv: list[str]) -> int:
    """``pgurl.py URL``: shell assignments; ``pgurl.py --dbname NAME URL``: the URL of NAME."""
    if not (len(argv) == 1 or len(argv) == 3 and argv[0] == "--dbname"):
        print("usage: pgurl.py [--dbname NAME] URL", file=sys.stderr)
        return 2
    try:
        target = parse(argv[-1])
        sys.stdout.write(target.url(argv[1]) + "\n" if len(argv) == 3
                         else shell_assignments(target))
    except URLError as error:
        print(f"gridmap: cannot read the database URL: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
