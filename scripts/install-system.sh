#!/usr/bin/env bash
# Install the Debian packages of the named groups that are missing, and nothing else.
#
#   scripts/install-system.sh GROUP...          e.g. run, or run test
#   scripts/install-system.sh --list GROUP...   print the groups' packages, install nothing
#
#   run    what `make run` needs: PostgreSQL with PostGIS, Python's venv, a CJK font
#   test   what only the test suite adds: Chromium for the end-to-end tests (Playwright drives
#          /usr/bin/chromium itself, so no chromedriver), GDAL's command-line tools (ogrinfo,
#          ogr2ogr) and QGIS's Python bindings with its data providers (tests/ogcapi/test_qgis.py
#          drives QGIS headless; bookworm: QGIS 3.22, 169 packages, ~930 MB, ~2 minutes), the
#          clients that read the OGC API – Features service
#   bench  what only the benchmarks add: GDAL's command-line tools (ogr2ogr), Mosquitto and
#          mosquitto_sub (the MQTT benchmark starts a broker of its own), pgRouting (peer of the
#          walking-matrix and stop-ordering benchmarks: pgr_withPointsCostMatrix, pgr_TSP)
#   mqtt   the MQTT broker devices publish to (Mosquitto) and its command-line clients;
#          `make run` and `make test` install it only when no broker answers at
#          GRIDMAP_MQTT_URL (scripts/ensure-broker.sh then starts it)
#
# A new group is one more entry in group_packages below and one more name on the make target
# that needs it.
# Packages already installed are left alone; nothing is ever removed.
set -euo pipefail

# PostGIS and pgRouting are packaged per PostgreSQL major version: follow the installed
# PostgreSQL, or let Debian's metapackage follow its default version when none is installed yet.
# pgRouting is in the bench group only (pgr_TSP is a peer of gridmap/routing/tsp.py).
per_postgresql_package() {  # $1 the package's name after postgresql-VERSION-, $2 the metapackage
  local version
  version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null \
    | sort -V | tail -n 1)
  if [ -n "$version" ]; then echo "postgresql-$version-$1"; else echo "$2"; fi
}

groups=(run test bench mqtt)
declare -A group_packages=(
  [run]="postgresql $(per_postgresql_package postgis-3 postgresql-postgis) python3 python3-venv fonts-wqy-microhei"
  [test]="chromium gdal-bin python3-qgis qgis-providers"
  [bench]="gdal-bin mosquitto mosquitto-clients $(per_postgresql_package pgrouting postgresql-pgrouting)"
  [mqtt]="mosquitto mosquitto-clients"
)

list=""
[ "${1:-}" != --list ] || { list=1; shift; }
if [ $# -eq 0 ]; then
  echo "usage: install-system.sh [--list] GROUP... (groups: ${groups[*]})" >&2
  exit 2
fi
wanted=()
for group in "$@"; do
  [ -n "${group_packages[$group]+set}" ] || {
    echo "gridmap: unknown package group '$group'; expected one of: ${groups[*]}" >&2
    exit 2
  }
  read -r -a packages <<< "${group_packages[$group]}"
  wanted+=("${packages[@]}")
done
[ -z "$list" ] || { echo "${wanted[*]}"; exit 0; }

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "gridmap: missing Debian packages: ${missing[*]}; run as root, or:" \
    "sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "gridmap: installing Debian packages: ${missing[*]}" \
  "(to remove them: apt-get remove ${missing[*]})"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
