"""Attribute text encodings: wrong ones found, and only suggestions that work are made.

Formats whose specification fixes the encoding (GeoPackage, GeoJSON, FlatGeobuf, OSM: UTF-8)
are never second-guessed: their text is taken as read. Only a Shapefile (or any other file)
whose encoding is a guess — no ``.cpg``, nothing in the recipe — is looked at for the one
reliable symptom of a wrong guess: Chinese text read as Latin-1 (GDAL's default for a DBF
that does not say). Only the columns an import uses are looked at.

Every encoding suggested has been tried: the caller's ``reread(encoding)`` reads the used
columns again exactly as the import would, and only an encoding under which every value
decodes is offered. Statistical detectors (charset-normalizer, chardet) were tried and
rejected: on attribute values of a few characters they name Korean or Big5 for GBK text.
"""
from __future__ import annotations

import codecs
import re
from typing import Callable

import pandas as pd

from gridmap.errors import ImportFailed
from gridmap.i18n import msg

# GDAL driver → what its specification calls the format. All of these are UTF-8 by definition.
FIXED_UTF8 = {"GPKG": "GeoPackage", "GeoJSON": "GeoJSON", "GeoJSONSeq": "GeoJSON",
              "FlatGeobuf": "FlatGeobuf", "OSM": "OpenStreetMap", "TopoJSON": "TopoJSON"}
CANDIDATES = ("utf-8", "gbk")
# Every byte is a Latin-1 character: reading with it gives the raw bytes back. Spelt as GDAL
# (iconv) knows it: GDAL silently ignores a Shapefile encoding it does not know ("latin-1").
RAW = "ISO-8859-1"
# Two Chinese characters in a row: Latin text read as GB 2312 yields at most isolated ones
# (a single accented letter before an ASCII one is not a GB 2312 byte pair).
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2}")
_HIGH = re.compile(r"[\u0080-\u00ff]")

Reread = Callable[[str], pd.DataFrame]


def codec_name(encoding: str) -> str:
    """The canonical name of ``encoding`` (``UTF8`` → ``utf-8``, ``CP936`` → ``gbk``,
    ``latin-1`` → ``iso8859-1``), which both Python and GDAL understand."""
    return codecs.lookup(encoding).name


class Undecodable(ValueError):
    """A value whose bytes are not text in the encoding they were decoded with."""

    def __init__(self, column: str, row: int, data: bytes, encoding: str) -> None:
        super().__init__(f"field {column!r} of feature {row + 1} ({data[:16]!r}) is not "
                         f"{encoding} text")
        self.column, self.row, self.data, self.encoding = column, row, data, encoding


def cpg_encoding(text: str) -> str:
    """The encoding a Shapefile's ``.cpg`` names, as GDAL reads it: ``936`` is code page 936
    (GBK), ``ANSI 1252`` code page 1252, ``88591`` ISO-8859-1, else the name itself."""
    value = text.strip()
    digits = re.sub(r"\D", "", value)
    if value.isdigit() or value.upper().startswith("ANSI "):
        value = f"cp{digits}"
    elif value.startswith("8859") and digits[4:]:
        value = f"iso8859-{digits[4:]}"
    return codec_name(value)


def decode_columns(frame: pd.DataFrame, columns: list[str], encoding: str) -> pd.DataFrame:
    """``frame`` read as Latin-1 (its raw bytes), with the text ``columns`` decoded strictly.

    Raises
    ------
    Undecodable
        Naming the first value that is not ``encoding`` text.
    """
    codec = codec_name(encoding)
    if codec == "iso8859-1":
        return frame
    out = frame.copy()
    for column in _text_columns(frame, columns):
        strings = _strings(frame, column)
        decoded = []
        for row, value in strings.items():
            data = value.encode("latin-1")
            try:
                decoded.append(data.decode(codec))
            except UnicodeDecodeError:
                raise Undecodable(column, int(row), data, encoding) from None
        out[column] = out[column].astype(object)
        out.loc[strings.index, column] = decoded
    return out


def _text_columns(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if c in frame.columns
            and (pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c]))]


def _strings(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column].dropna()
    if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
        return values
    # Text columns read by GDAL hold only str; a mixed column keeps its str values.
    is_text = values.astype(object).str.len().notna()
    return values[is_text.to_numpy()]


def _works(reread: Reread, encoding: str, columns: list[str]) -> bool:
    """Whether reading the columns with ``encoding`` decodes every value cleanly."""
    try:
        frame = reread(encoding)
    except (UnicodeDecodeError, Undecodable, LookupError):
        return False
    return not any(_strings(frame, c).str.contains("\ufffd", regex=False).any()
                   for c in _text_columns(frame, columns))


def suggestion(reread: Reread, columns: list[str], tried: str | None) -> str:
    for candidate in CANDIDATES:
        if candidate != (tried and codec_name(tried)) and _works(reread, candidate, columns):
            return msg("it reads cleanly as {encoding}: give encoding: {encoding} "
                       "(--encoding {encoding})", encoding=candidate)
    return msg("it does not read cleanly as {encodings} either: give the file's encoding "
               "(--encoding NAME)", encodings=" or ".join(CANDIDATES))


def _declared(recipe_encoding: str | None, driver: str, file_encoding: str | None) -> str:
    if recipe_encoding:
        return msg("{encoding} (the recipe's encoding)", encoding=recipe_encoding)
    if driver in FIXED_UTF8:
        return msg("UTF-8, which the {format} specification requires",
                   format=FIXED_UTF8[driver])
    return msg("{encoding} (the encoding the file declares or GDAL assumes)",
               encoding=file_encoding or "UTF-8")


def _first_undecodable(raw: pd.DataFrame, columns: list[str],
                       encoding: str) -> tuple[str, int, bytes] | None:
    """The first value (column, row, bytes) of a Latin-1 read that ``encoding`` rejects."""
    for column in _text_columns(raw, columns):
        for row, value in _strings(raw, column).items():
            data = value.encode("latin-1")
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                return column, int(row), data
    return None


def explain_decode_error(name: str, *, reread: Reread, columns: list[str], driver: str,
                         recipe_encoding: str | None, file_encoding: str | None,
                         found: Undecodable | None = None) -> ImportFailed:
    """The error for text that failed to decode: which field, which feature, what works."""
    used = recipe_encoding or ("utf-8" if driver in FIXED_UTF8 else file_encoding) or "utf-8"
    if found is None:
        try:
            located = _first_undecodable(reread(RAW), columns, used)
        except (UnicodeDecodeError, Undecodable, LookupError):
            located = None
        if located is not None:
            found = Undecodable(*located, used)
    where = (msg(" field {column!r} of feature {number} ({data!r})", column=found.column,
                 number=found.row + 1, data=found.data[:16]) if found is not None else "")
    return ImportFailed(msg("{name}:{where} text does not decode as {recipe_encoding}; {reread}",
                            name=name, where=where,
                            recipe_encoding=_declared(recipe_encoding, driver, file_encoding),
                            reread=suggestion(reread, columns, used)))


def refuse_needless_encoding(name: str, *, reread: Reread, columns: list[str], driver: str,
                             recipe_encoding: str | None) -> None:
    """An encoding given for a UTF-8-by-specification file whose text is valid UTF-8."""
    if (driver not in FIXED_UTF8 or not recipe_encoding
            or codec_name(recipe_encoding) == "utf-8"):
        return
    if _works(reread, "utf-8", columns):
        raise ImportFailed(msg("{name} is a {driver} file, whose text is UTF-8 by specification, "
                               "and it reads cleanly as UTF-8; reading it as {recipe_encoding} "
                               "would garble it: remove the encoding", name=name,
                               driver=FIXED_UTF8[driver], recipe_encoding=recipe_encoding))


def _misread(value: str) -> str | None:
    """The encoding a Latin-1-decoded value was really in, when that is certain enough."""
    try:
        data = value.encode("latin-1")
    except UnicodeEncodeError:
        return None
    for candidate, strict in (("utf-8", "utf-8"), ("gbk", "gb2312")):
        try:
            decoded = data.decode(strict)
        except UnicodeDecodeError:
            continue
        if candidate == "utf-8" or _CJK_RUN.search(decoded):
            return candidate
    return None


def check_text(frame: pd.DataFrame, name: str, *, columns: list[str], driver: str,
               guessed: bool, declared: str | None, reread: Reread) -> None:
    """Refuse damaged or misread text in the used ``columns``, naming field and feature.

    ``guessed`` says the encoding was nobody's statement (no .cpg, no recipe encoding), the
    only case in which Latin-1 text is suspected of being something else.
    """
    for column in _text_columns(frame, columns):
        values = _strings(frame, column)
        broken = values[values.str.contains("\ufffd", regex=False)]
        if len(broken):
            raise ImportFailed(msg("{name}: field {column!r} of feature {feature} ({text!r}) "
                                   "does not decode as {encoding}; {reread}", name=name,
                                   column=column, feature=broken.index[0] + 1,
                                   text=broken.iloc[0],
                                   encoding=declared or 'the declared encoding',
                                   reread=suggestion(reread, columns, declared)))
        if not guessed or driver in FIXED_UTF8:
            continue
        for row, value in values[values.str.contains(_HIGH)].items():
            real = _misread(value)
            if real and _works(reread, real, columns):
                raise ImportFailed(msg("{name}: field {column!r} of feature {feature} reads as "
                                       "{text!r}, which is {actual} text read as Latin-1 (the "
                                       "file does not say its encoding); it reads cleanly as "
                                       "{real}: add a .cpg file or give encoding: {real} "
                                       "(--encoding {real})", name=name, column=column,
                                       feature=row + 1, text=value, actual=real.upper(),
                                       real=real))
