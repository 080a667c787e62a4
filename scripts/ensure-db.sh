#!/usr/bin/env bash
# Makes sure the database at $1 exists, is reachable and has PostGIS.
# When no server answers at that address, starts (or creates) the local Debian cluster and lets
# local TCP connections in without a password: a development/CI convenience, said out loud below.
set -euo pipefail
url="$1"
server_url="${url%/*}/postgres"
dbname="${url##*/}"
dbname="${dbname%%\?*}"

reachable() { psql "$server_url" -qtAc 'select 1' >/dev/null 2>&1; }

start_local_cluster() {
  local version
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
    echo "gridmap: creating PostgreSQL $version cluster 'main'"
    pg_createcluster "$version" main >/dev/null
  fi
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q '^# gridmap-local-trust' "$hba"; then
    echo "gridmap: allowing password-less connections from 127.0.0.1 and ::1 ($hba)"
    { echo '# gridmap-local-trust'; echo 'host all all 127.0.0.1/32 trust';
      echo 'host all all ::1/128 trust'; cat "$hba"; } > "$hba.new" && mv "$hba.new" "$hba"
  fi
  echo "gridmap: starting PostgreSQL $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || pg_ctlcluster --skip-systemctl-redirect "$version" main reload
}

if ! reachable; then
  start_local_cluster
  for _ in $(seq 1 30); do reachable && break; sleep 1; done
  reachable || { echo "gridmap: no PostgreSQL answers at $server_url" >&2; exit 1; }
fi
if [ "$(psql "$server_url" -qtAc "select 1 from pg_database where datname = '$dbname'")" != "1" ]; then
  echo "gridmap: creating database $dbname"
  psql "$server_url" -qc "create database \"$dbname\"" >/dev/null
fi
psql "$url" -qc 'create extension if not exists postgis' >/dev/null
