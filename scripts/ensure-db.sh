#!/usr/bin/env bash
# Make sure the database at a PostgreSQL URL exists and has PostGIS.
#
#   scripts/ensure-db.sh URL            set up (idempotent)
#   scripts/ensure-db.sh --undo [URL]   remove the access rules this script added (all, or URL's)
#
# Anything it changes on the machine is said on stdout together with how to undo it. It changes
# the machine only for a local address (127.0.0.1, ::1, localhost or a Unix socket), and only:
#   - nothing answers there: starts the local Debian cluster set up for that port, or, when the
#     machine has no cluster at all, creates one (pg_createcluster);
#   - the URL's user may not log in (no password in the URL): as the postgres system user (peer
#     authentication over the socket), creates the role and database if missing, and adds the
#     narrowest rule that lets this URL in — one database, one user, the loopback address it
#     names (trust), or peer for a socket — marked "# gridmap:ensure-db" at the top of
#     pg_hba.conf, checked by the server before it is loaded.
# A remote or mistyped address gets one line on stderr and a non-zero exit; nothing is touched.
# Names reach SQL only as psql variables (:"name" identifiers, :'name' literals).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "gridmap: $*"; }
die() { echo "gridmap: $*" >&2; exit 1; }
command -v psql >/dev/null && command -v pg_isready >/dev/null \
  || die "psql and pg_isready are not installed; expected the postgresql-client package (make system)"

load_url() {  # sets pg_host pg_port pg_user pg_db pg_local pg_conninfo … (scripts/pgurl.py)
  local vars
  vars=$(python3 "$here/pgurl.py" "$1") || exit 2
  eval "$vars"
  url=$1
}

can_be_postgres() { [ "$(id -u)" -eq 0 ] || [ "$(id -un)" = postgres ]; }
as_postgres() {
  if [ "$(id -un)" = postgres ]; then (cd / && "$@"); else (cd / && runuser -u postgres -- "$@"); fi
}
# The local Debian cluster ("VERSION NAME STATUS") configured for a port, if any.
cluster_on_port() { pg_lsclusters -h 2>/dev/null | awk -v p="$1" '$3 == p {print $1, $2, $4; exit}'; }
conninfo_quote() { local v=${1//\\/\\\\}; printf "'%s'" "${v//\'/\\\'}"; }

try_connect() {  # on failure, conn_error holds psql's last line
  conn_error=$(LC_MESSAGES=C psql -X -qtA -d "$1" -c 'select 1' 2>&1 >/dev/null) && return 0
  conn_error=$(printf '%s\n' "$conn_error" | sed '/^[[:space:]]*$/d' | tail -n 1)
  conn_error=${conn_error#psql: error: }
  return 1
}

# SQL on stdin, as the URL's user ("url") or as postgres over the cluster's socket ("peer").
admin() {  # admin DBNAME [psql options]
  local db=$1; shift
  local opts=(-X -q -v ON_ERROR_STOP=1 -v db="$pg_db" -v user="$pg_user" "$@")
  if [ "$admin_mode" = url ]; then
    local info=$pg_server_conninfo
    [ "$db" = postgres ] || info=$pg_conninfo
    LC_MESSAGES=C psql "${opts[@]}" -d "$info"
  else
    as_postgres psql --cluster "$cluster_version/$cluster_name" "${opts[@]}" \
      -d "dbname=$(conninfo_quote "$db")"
  fi
}

need_peer() {
  [ -n "$pg_local" ] || die "$1"
  [ -n "$cluster_name" ] || die "$1; the server at $pg_host port $pg_port is not a Debian" \
    "cluster of this machine, so gridmap cannot set it up — do it yourself or fix the URL"
  can_be_postgres || die "$1; run as root (or postgres) to let gridmap set up the local cluster"
  admin_mode=peer
}

start_local_server() {
  if [ -z "$cluster_name" ]; then
    local others
    others=$(pg_lsclusters -h 2>/dev/null | awk '{printf "%s%s/%s on port %s", sep, $1, $2, $3; sep=", "}')
    [ -z "$others" ] || die "nothing answers at $pg_display and no local cluster is set up for" \
      "port $pg_port (there is $others); start that server or change the URL's port"
    [ "$(id -u)" -eq 0 ] || die "nothing answers at $pg_display; run as root to create a cluster"
    command -v pg_createcluster >/dev/null \
      || die "nothing answers at $pg_display and PostgreSQL is not installed (make system)"
    cluster_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    cluster_name=main
    pg_createcluster -p "$pg_port" "$cluster_version" main >/dev/null
    say "created PostgreSQL cluster $cluster_version/main on port $pg_port" \
      "(data in /var/lib/postgresql/$cluster_version/main); to remove it:" \
      "pg_dropcluster --stop $cluster_version main"
  fi
  can_be_postgres || die "nothing answers at $pg_display; run as root (or postgres) to start" \
    "cluster $cluster_version/$cluster_name"
  pg_ctlcluster "$cluster_version" "$cluster_name" start
  say "started PostgreSQL $cluster_version/$cluster_name (port $pg_port); to stop it:" \
    "pg_ctlcluster $cluster_version $cluster_name stop"
}

ensure_reachable() {
  local rc=0
  pg_isready -q -d "$pg_conninfo" -t "$pg_timeout" || rc=$?
  if [ "$rc" -eq 2 ]; then
    [ -n "$pg_local" ] || die "nothing answers at $pg_display within $pg_timeout s; it is not a" \
      "local address, so nothing was started or changed — start that server or correct the URL"
    start_local_server
  elif [ "$rc" -eq 3 ]; then
    die "cannot try to connect to $pg_display: pg_isready rejected the connection parameters"
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -d "$pg_conninfo" -t "$pg_timeout" && return 0
    sleep 1
  done
  die "nothing answers at $pg_display after 30 s; see the server's log"
}

ensure_role() {
  [ "$(admin postgres -tA <<< "select 1 from pg_roles where rolname = :'user'")" = 1 ] && return
  admin postgres <<< 'create role :"user" login'
  say "created role $pg_user (login, no password); to remove it: dropuser -- '$pg_user'"
}

ensure_database() {
  [ "$(admin postgres -tA <<< "select 1 from pg_database where datname = :'db'")" = 1 ] && return
  admin postgres <<< 'create database :"db" owner :"user"'
  say "created database $pg_db (owner $pg_user) at $pg_host port $pg_port"
}

grant_access() {  # the narrowest marked rule for this URL; checked by the server, then loaded
  local hba ident added bad
  hba=$(pg_conftool -s "$cluster_version" "$cluster_name" show hba_file)
  ident=$(pg_conftool -s "$cluster_version" "$cluster_name" show ident_file)
  added=$(python3 "$here/pghba.py" add "$url" "$hba" "$ident") || exit 2
  [ -n "$added" ] || return 0
  bad=$(admin postgres -tA <<< "select 'pg_hba.conf line ' || line_number || ': ' || error
      from pg_hba_file_rules where error is not null union all
      select 'pg_ident.conf line ' || line_number || ': ' || error
      from pg_ident_file_mappings where error is not null")
  if [ -n "$bad" ]; then
    python3 "$here/pghba.py" remove "$hba" "$ident" "$url" >/dev/null
    die "PostgreSQL rejects the access rule gridmap would add, so it was taken out again: ${bad//$'\n'/; }"
  fi
  pg_ctlcluster "$cluster_version" "$cluster_name" reload
  printf '%s\n' "$added"
  say "this lets $pg_display connect without a password; to undo: make db-untrust" \
    "(or scripts/ensure-db.sh --undo)"
}

ensure_postgis() {
  local have
  have=$(psql -X -qtA -d "$pg_conninfo" -c "select 1 from pg_extension where extname = 'postgis'")
  [ "$have" = 1 ] && return
  admin_mode=url
  if ! admin "$pg_db" 2>/dev/null <<< 'create extension if not exists postgis'; then
    need_peer "$pg_user may not create the postgis extension in $pg_db"
    admin "$pg_db" <<< 'create extension if not exists postgis'
  fi
  say "created extension postgis in database $pg_db"
}

ensure() {
  load_url "$1"
  cluster_version="" cluster_name="" cluster_status=""
  read -r cluster_version cluster_name cluster_status <<< "$(cluster_on_port "$pg_port")" || true
  [ -n "$pg_local" ] || cluster_name=""
  ensure_reachable
  if ! try_connect "$pg_conninfo"; then
    local first_error=$conn_error
    case "$conn_error" in
      *"database \""*"\" does not exist"*)
        admin_mode=url
        try_connect "$pg_server_conninfo" || need_peer "cannot connect to $pg_display: $first_error"
        ensure_database ;;
      *"authentication failed"* | *"no password supplied"* | *"no pg_hba.conf entry"* \
        | *"role \""*"\" does not exist"*)
        [ -n "$pg_local" ] && [ -z "$pg_has_password" ] \
          || die "cannot connect to $pg_display: $first_error"
        need_peer "cannot connect to $pg_display: $first_error"
        ensure_role
        ensure_database
        try_connect "$pg_conninfo" || grant_access ;;
      *) die "cannot connect to $pg_display: $first_error" ;;
    esac
    try_connect "$pg_conninfo" || die "still cannot connect to $pg_display: $conn_error"
  fi
  ensure_postgis
}

undo() {  # undo [URL]: remove marked rules from every local cluster, or URL's cluster
  local only=() removed=0 version name port status
  if [ $# -gt 0 ]; then
    load_url "$1"
    [ -n "$pg_local" ] || die "$pg_display is not a local address; nothing to undo"
    only=("$url")
  fi
  while read -r version name port status _; do
    [ $# -eq 0 ] || [ "$port" = "$pg_port" ] || continue
    local hba ident out
    hba=$(pg_conftool -s "$version" "$name" show hba_file)
    ident=$(pg_conftool -s "$version" "$name" show ident_file)
    out=$(python3 "$here/pghba.py" remove "$hba" "$ident" "${only[@]}") || exit 2
    [ -n "$out" ] || continue
    printf '%s\n' "$out"
    removed=1
    [ "$status" != online ] || pg_ctlcluster "$version" "$name" reload
  done < <(pg_lsclusters -h 2>/dev/null)
  [ "$removed" = 1 ] || say "no access rules added by gridmap were found; nothing changed"
}

case "${1:-}" in
  --undo) shift; undo "$@" ;;
  "" | -*) echo "usage: ensure-db.sh URL | ensure-db.sh --undo [URL]" >&2; exit 2 ;;
  *) [ $# -eq 1 ] || { echo "usage: ensure-db.sh URL | ensure-db.sh --undo [URL]" >&2; exit 2; }
     ensure "$1" ;;
esac
