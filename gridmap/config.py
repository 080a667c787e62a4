"""Settings: one documented table, read from the environment.

Every setting has a name, a default and a help text; :func:`load_settings` reads the environment
variable ``GRIDMAP_<NAME>`` (or the plain name for the few listed with ``env``) and converts it to
the default's type. A test fails when a setting read elsewhere is missing here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    """One configurable value with its documentation."""

    name: str
    default: Any
    help: str
    env: str | None = None

    @property
    def env_var(self) -> str:
        return self.env or f"GRIDMAP_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "postgresql://postgres@127.0.0.1:5432/gridmap",
            "SQLAlchemy URL of the PostGIS database (psycopg 3 driver is used).",
            env="DATABASE_URL"),
    Setting("data_dir", str(REPO_ROOT / "data"),
            "Folder of reference tables and the demo district."),
    Setting("code_profile", "gbt30428",
            "Default grid-code profile for new districts: gbt30428 (15 digits), cjt213 (14), "
            "cjt349 (20)."),
    Setting("min_households", 250, "Default lower household bound of a residential grid."),
    Setting("max_households", 500, "Default upper household bound of a residential grid."),
    Setting("containment_tolerance_m", 0.5,
            "How far (metres) a grid may stick out of its community before it is a violation."),
    Setting("gap_tolerance_m2", 1.0,
            "Smallest gap or overlap area (m²) reported by the validator."),
    Setting("api_max_features", 5000, "Upper limit of features in one API response."),
    Setting("secret_key", "", "Flask secret key; empty means a random key per process."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _convert(raw: str, default: Any, name: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"setting {name}: expected an integer, got {raw!r}") from exc
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"setting {name}: expected a number, got {raw!r}") from exc
    return raw


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return every setting: overrides, then the environment, then the default.

    Raises
    ------
    KeyError
        When an override names a setting that is not in :data:`SETTINGS`.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env_var)
        values[setting.name] = (setting.default if raw in (None, "")
                                else _convert(raw, setting.default, setting.name))
    for key, value in (overrides or {}).items():
        if key not in _BY_NAME:
            raise KeyError(f"unknown setting {key!r}; known: {', '.join(sorted(_BY_NAME))}")
        values[key] = value
    return values
