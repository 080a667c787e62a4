"""A field's ``lookup`` (layers.sql): a correlated subselect in the map's queries, a left join
in an export; both give the same values, and the join cannot multiply rows."""
from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import text

from gridmap.errors import ConfigurationError
from gridmap.export import Selection, parse_export_crs, stream_batches
from layers.scoping import grid_scope
from layers.sql import SqlLayer
from tests.export.conftest import ADMIN

LOOKUPS = [(name, field["name"]) for name, layer in __import__("layers").load_layers().items()
           for field in getattr(layer, "fields", []) if "lookup" in field]


def test_the_layers_have_lookups():
    assert ("buildings", "grid_code") in LOOKUPS and len(LOOKUPS) >= 5


@pytest.mark.parametrize("layer_name,field_name", LOOKUPS)
def test_a_lookup_key_is_unique_so_the_join_keeps_one_row_each(db, layers, layer_name,
                                                               field_name):
    lookup = next(f for f in layers[layer_name].fields if f["name"] == field_name)["lookup"]
    # a primary key or unique index on exactly the key column
    unique = db.execute(text(
        "select count(*) from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
        "and a.attnum = i.indkey[0] where i.indrelid = cast(:t as regclass) "
        "and i.indisunique and i.indnatts = 1 and i.indpred is null and a.attname = :c"),
        {"t": lookup["table"], "c": lookup["key"]}).scalar_one()
    assert unique >= 1


@pytest.mark.parametrize("layer_name", sorted({name for name, _ in LOOKUPS}))
def test_the_export_join_gives_what_the_subselect_gives(db, layers, layer_name):
    layer = layers[layer_name]
    source = layer.export_source(ADMIN, Selection())
    table = pa.Table.from_batches(list(stream_batches(db, source, parse_export_crs(None))))
    fields = [f for f in layer.fields if "lookup" in f and f.get("export", True)]
    scope_sql, params = grid_scope("g", ADMIN)
    columns = ", ".join(f"{layer.field_sql(f['name'], scope_sql)} as {f['name']}"
                        for f in fields)
    expected = db.execute(text(
        f"select t.{layer.id_column} as id, {columns} from {layer.table} t "
        f"where {layer.scoped_condition(ADMIN)[0]} order by t.{layer.id_column}"),
        params).mappings().all()
    assert len(expected) == table.num_rows
    for f in fields:
        assert table[f["name"]].to_pylist() == [row[f["name"]] for row in expected]
    assert any(v is not None for f in fields for v in table[f["name"]].to_pylist()) \
        or table.num_rows == 0


def test_a_malformed_lookup_is_a_configuration_error():
    definition = {"table": "building", "geometry": "footprint", "scope": {"grid_id": "grid_id"},
                  "fields": [{"name": "grid_code", "lookup": {"table": "grid", "column": "code",
                                                              "key": "id"}}]}
    with pytest.raises(ConfigurationError, match="lookup"):
        SqlLayer("broken", definition)
    definition["fields"][0]["lookup"]["by"] = "grid_id; drop table grid"
    with pytest.raises(ConfigurationError, match="plain SQL name"):
        SqlLayer("broken", definition)
