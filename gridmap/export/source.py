"""What an export reads: one SQL query (built by a layer) streamed as Arrow record batches.

The rows never exist as Python objects all at once: PostgreSQL returns them through a
server-side cursor, ``chunk_rows`` at a time, with the geometry already in the target CRS
(``ST_Transform``) and as WKB (``ST_AsBinary``); each chunk becomes one Arrow record batch,
which GDAL (through :func:`pyogrio.write_arrow`) appends to the file and drops.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.export.crs import ExportCrs
from gridmap.geo import STORAGE_SRID

#: The column of the query holding the WKB geometry.
GEOMETRY = "geometry"
_GEOMETRY_TYPES = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon",
                   "MULTIPOINT": "MultiPoint", "MULTILINESTRING": "MultiLineString",
                   "MULTIPOLYGON": "MultiPolygon"}
# PostgreSQL type OIDs → Arrow types; anything else is written as text.
_ARROW_TYPES = {16: pa.bool_(), 20: pa.int64(), 21: pa.int32(), 23: pa.int32(),
                700: pa.float64(), 701: pa.float64(), 1700: pa.float64(), 25: pa.string(),
                1043: pa.string(), 1042: pa.string(), 1082: pa.date32(),
                1114: pa.timestamp("us"), 1184: pa.timestamp("us", tz="UTC")}


@dataclass(frozen=True)
class ExportSource:
    """One layer's rows for an export.

    Attributes
    ----------
    name
        The layer name (the file's layer name).
    table, geometry_column
        Where the geometry lives, to learn its type from ``geometry_columns``; None for an
        attribute table.
    select
        SQL over the alias ``t``: ``select {columns} from … where …``; ``{geometry}`` in it is
        replaced with the WKB geometry expression in the target CRS, aliased ``geometry``.
    params
        Its bound parameters.
    fields
        The field names, in order (the columns of the query besides the geometry).
    labels
        Field name → label, for the Shapefile field mapping.
    """

    name: str
    table: str | None
    geometry_column: str | None
    select: str
    params: dict[str, Any] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def spatial(self) -> bool:
        return self.geometry_column is not None

    def sql(self, crs: ExportCrs) -> str:
        """The query with its geometry in ``crs`` as WKB."""
        if not self.spatial:
            return self.select
        column = f"t.{self.geometry_column}"
        if crs.srid != STORAGE_SRID:
            column = f"ST_Transform({column}, {crs.srid})"
        return self.select.replace("{geometry}", f"ST_AsBinary({column}) as {GEOMETRY}")

    def count(self, session: Session) -> int:
        """How many rows the export will hold."""
        sql = self.select.replace("{geometry}", "1 as one")
        return session.execute(text(f"select count(*) from ({sql}) counted"),
                               self.params).scalar_one()

    def geometry_type(self, session: Session) -> str:
        """The OGR geometry type of the column ("Unknown" for a mixed column)."""
        found = session.execute(text(
            "select type from geometry_columns where f_table_name = :t "
            "and f_geometry_column = :c"), {"t": self.table, "c": self.geometry_column}
        ).scalar()
        return _GEOMETRY_TYPES.get(str(found).upper(), "Unknown")


def _to_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def stream_batches(session: Session, source: ExportSource, crs: ExportCrs, *,
                   chunk_rows: int = 20_000) -> pa.RecordBatchReader:
    """The rows of ``source`` as an Arrow stream of batches of at most ``chunk_rows`` rows.

    The schema comes from the column types PostgreSQL reports; codes stored as text stay
    text (never numbers), integers keep 64 bits.
    """
    # Options of the statement, not of the connection: they must not outlive this query.
    statement = text(source.sql(crs)).execution_options(stream_results=True,
                                                        yield_per=chunk_rows)
    result = session.connection().execute(statement, source.params)
    oids = [column.type_code for column in result.cursor.description]
    names = list(result.keys())
    types = [pa.binary() if name == GEOMETRY and source.spatial
             else _ARROW_TYPES.get(oid, pa.string()) for name, oid in zip(names, oids)]
    metadata = {GEOMETRY: {b"ARROW:extension:name": b"geoarrow.wkb"}}
    schema = pa.schema([pa.field(n, t, metadata=metadata.get(n)) for n, t in zip(names, types)])
    as_text = [t == pa.string() and oid not in (25, 1043, 1042) for t, oid in zip(types, oids)]

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for rows in result.partitions():
                columns = list(zip(*rows))
                arrays = [pa.array([_to_text(v) for v in col] if conv else col, type=t)
                          for col, t, conv in zip(columns, types, as_text)]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            result.close()

    return pa.RecordBatchReader.from_batches(schema, batches())
