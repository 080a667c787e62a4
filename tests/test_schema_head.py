"""The schema revision the code needs, read from the revision files without Alembic, is
Alembic's own head (gridmap.schema.code_head)."""
from __future__ import annotations

from gridmap import schema


def test_the_head_read_from_the_files_is_alembics():
    assert schema._head_by_assignments() == schema._script().get_current_head()


def test_a_branch_is_left_to_alembic(tmp_path, monkeypatch):
    versions = tmp_path / "versions"
    versions.mkdir()
    for name, down in (("a", None), ("b", "a"), ("c", "a")):
        (versions / f"{name}.py").write_text(
            f"revision = {name!r}\ndown_revision = {down!r}\n", encoding="utf-8")
    monkeypatch.setattr(schema, "MIGRATIONS", tmp_path)
    schema._head_by_assignments.cache_clear()
    try:
        assert schema._head_by_assignments() is None
        (versions / "c.py").write_text("revision: str = 'c'\ndown_revision: str = 'b'\n",
                                       encoding="utf-8")
        schema._head_by_assignments.cache_clear()
        assert schema._head_by_assignments() == "c"
    finally:
        schema._head_by_assignments.cache_clear()
