#!/usr/bin/env bash
# Make sure the database at a PostgreSQL URL exists and has PostGIS.
#
#   scripts/ensure-db.sh URL            set up (idempotent)
#   scripts/ensure-db.sh --undo [URL]   take back the access granted (to every URL, or to URL)
#
# Whatever it changes on the machine it says on stdout, with how to undo it. It changes the
# machine only for a local address (127.0.0.1, ::1, localhost or a Unix socket), and only:
#   - nothing answers there: it starts the local Debian cluster set up for that port, or, when
#     the machine has no cluster at all, creates one (pg_createcluster);
#   - the URL's user may not log in and the URL has no password: working as the postgres system
#     user (peer authentication over the cluster's socket), it creates the role and database if
#     missing and then, never with trust (scripts/pgaccess.py):
#       over TCP: sets a generated password on the role, if the role has none, kept in this
#                 login's ~/.pgpass (or $PGPASSFILE, mode 0600); pg_hba.conf is not touched;
#       socket:   adds peer rules mapping this login to the role, marked "# gridmap:ensure-db",
#                 at the top of pg_hba.conf and pg_ident.conf, checked by the server first.
# A remote or mistyped address gets one line on stderr and a non-zero exit; nothing is touched.
# Names reach SQL only as psql variables (:"name" identifiers, :'name' literals).
# shellcheck disable=SC2154  # pg_* variables come from scripts/pgurl.py through eval
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
passfile=${PGPASSFILE:-${HOME:-$(getent passwd "$(id -un)" | cut -d: -f6)}/.pgpass}
undo_hint="to undo: make db-untrust (or scripts/ensure-db.sh --undo)"

say() { echo "gridmap: $*"; }
die() { echo "gridmap: $*" >&2; exit 1; }
if ! command -v psql >/dev/null || ! command -v pg_isready >/dev/null; then
  die "psql and pg_isready are not installed; expected the postgresql-client package" \
    "(make system-run)"
fi

load_url() {  # sets pg_host pg_port pg_user pg_db pg_local pg_conninfo … and url
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
cluster_on_port() {
  pg_lsclusters -h 2>/dev/null | awk -v p="$1" '$3 == p {print $1, $2, $4; exit}'
}
conninfo_quote() { local v=${1//\\/\\\\}; printf "'%s'" "${v//\'/\\\'}"; }

try_connect() {  # try_connect CONNINFO; on failure, conn_error holds psql's last line
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
    others=$(pg_lsclusters -h 2>/dev/null \
      | awk '{printf "%s%s/%s on port %s", sep, $1, $2, $3; sep=", "}')
    [ -z "$others" ] || die "nothing answers at $pg_display and no local cluster is set up for" \
      "port $pg_port (there is $others); start that server or change the URL's port"
    [ "$(id -u)" -eq 0 ] || die "nothing answers at $pg_display; run as root to create a cluster"
    command -v pg_createcluster >/dev/null \
      || die "nothing answers at $pg_display and PostgreSQL is not installed (make system-run)"
    cluster_version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' \
      | sort -V | tail -n 1)
    cluster_name=main
    pg_createcluster -p "$pg_port" "$cluster_version" main >/dev/null
    say "created PostgreSQL cluster $cluster_version/main on port $pg_port" \
      "(data in /var/lib/postgresql/$cluster_version/main); to remove it:" \
      "pg_dropcluster --stop $cluster_version main"
  fi
  [ "$cluster_status" != online ] || die "nothing answers at $pg_display, yet cluster" \
    "$cluster_version/$cluster_name on port $pg_port is running: does it listen on $pg_host?" \
    "(listen_addresses, unix_socket_directories in its postgresql.conf)"
  can_be_postgres || die "nothing answers at $pg_display; run as root (or postgres) to start" \
    "cluster $cluster_version/$cluster_name"
  pg_ctlcluster "$cluster_version" "$cluster_name" start 2>/dev/null || die "could not start" \
    "cluster $cluster_version/$cluster_name; see" \
    "/var/log/postgresql/postgresql-$cluster_version-$cluster_name.log"
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
  say "created role $pg_user (login); to remove it: dropuser -- $(printf %q "$pg_user")"
}

ensure_database() {
  [ "$(admin postgres -tA <<< "select 1 from pg_database where datname = :'db'")" = 1 ] && return
  admin postgres <<< 'create database :"db" owner :"user"'
  say "created database $pg_db (owner $pg_user) at $pg_host port $pg_port"
}

grant_password() {  # TCP: a generated password on a role that has none, in the password file
  local first_error=$1 has_password password
  has_password=$(admin postgres -tA <<< \
    "select rolpassword is not null from pg_authid where rolname = :'user'")
  [ "$has_password" = f ] || die "cannot connect to $pg_display: $first_error; role $pg_user" \
    "has a password: put it in the URL or in $passfile"
  password=$(python3 "$here/pgaccess.py" add-pgpass "$url" "$passfile") || exit 2
  # stdin, not the command line: the password never shows in the process list
  admin postgres <<< "\\set pw '$password'
alter role :\"user\" password :'pw'"
  if ! try_connect "$pg_conninfo"; then
    admin postgres <<< 'alter role :"user" password null'
    python3 "$here/pgaccess.py" remove-pgpass "$passfile" "$url" >/dev/null
    die "cannot connect to $pg_display even with a password ($conn_error): the cluster's" \
      "pg_hba.conf does not let $pg_user log in with a password from $pg_host; nothing changed"
  fi
  say "set a generated password on role $pg_user of the cluster on port $pg_port and saved it" \
    "in $passfile, so that $(id -un) reaches $pg_display without typing it (pg_hba.conf is" \
    "unchanged); $undo_hint"
}

grant_peer() {  # socket: peer rules mapping this login to the role; checked, then loaded
  local hba ident added bad
  hba=$(pg_conftool -s "$cluster_version" "$cluster_name" show hba_file)
  ident=$(pg_conftool -s "$cluster_version" "$cluster_name" show ident_file)
  added=$(python3 "$here/pgaccess.py" add-peer "$url" "$hba" "$ident") || exit 2
  [ -n "$added" ] || return 0
  bad=$(admin postgres -tA <<< "select 'pg_hba.conf line ' || line_number || ': ' || error
      from pg_hba_file_rules where error is not null union all
      select 'pg_ident.conf line ' || line_number || ': ' || error
      from pg_ident_file_mappings where error is not null")
  if [ -n "$bad" ]; then
    python3 "$here/pgaccess.py" remove-peer "$hba" "$ident" "$url" >/dev/null
    die "PostgreSQL rejects the access rule gridmap would add, so it was taken out again:" \
      "${bad//$'\n'/; }"
  fi
  pg_ctlcluster "$cluster_version" "$cluster_name" reload
  printf '%s\n' "$added"
  say "so that $(id -un) reaches $pg_display as $pg_user (peer); $undo_hint"
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
  [ -z "$pg_local" ] \
    || read -r cluster_version cluster_name cluster_status <<< "$(cluster_on_port "$pg_port")"
  ensure_reachable
  try_connect "$pg_conninfo" && { ensure_postgis; return; }
  local first_error=$conn_error
  case "$first_error" in
    *"database \""*"\" does not exist"*)
      admin_mode=url
      try_connect "$pg_server_conninfo" || need_peer "cannot connect to $pg_display: $first_error"
      ensure_database ;;
    *"authentication failed"* | *"no password supplied"* | *"no pg_hba.conf entry"* \
      | *"role \""*"\" does not exist"*)
      if [ -z "$pg_local" ] || [ -n "$pg_has_password" ]; then
        die "cannot connect to $pg_display: $first_error"
      fi
      need_peer "cannot connect to $pg_display: $first_error"
      ensure_role
      ensure_database
      if ! try_connect "$pg_conninfo"; then
        if [ "$pg_local" = tcp ]; then grant_password "$first_error"; else grant_peer; fi
      fi ;;
    *) die "cannot connect to $pg_display: $first_error" ;;
  esac
  try_connect "$pg_conninfo" || die "still cannot connect to $pg_display: $conn_error"
  ensure_postgis
}

undo_password() {  # the role's password back to none, if it is still the one gridmap set
  local entry_host entry_port entry_user entry_password version name status
  eval "$1"
  read -r version name status <<< "$(cluster_on_port "$entry_port")"
  say "removed from $passfile: the password of role $entry_user at $entry_host:$entry_port"
  if [ -z "$name" ] || [ "$status" != online ]; then
    say "cluster on port $entry_port is not running; the role keeps the password (alter role" \
      "\"$entry_user\" password null, once it runs)"
  elif PGPASSWORD=$entry_password try_connect "host=$(conninfo_quote "$entry_host")
      port=$entry_port user=$(conninfo_quote "$entry_user") dbname=postgres passfile=/dev/null"
  then
    as_postgres psql --cluster "$version/$name" -X -q -v ON_ERROR_STOP=1 -v user="$entry_user" \
      -d postgres <<< 'alter role :"user" password null'
    say "role $entry_user has no password again"
  else
    say "role $entry_user's password was changed since; left as it is"
  fi
}

undo() {  # undo [URL]
  local only=() removed="" version name port status entry
  if [ $# -gt 0 ]; then
    load_url "$1"
    [ -n "$pg_local" ] || die "$pg_display is not a local address; nothing to undo"
    only=("$url")
  fi
  can_be_postgres || die "run as root (or postgres) to take back what gridmap granted"
  if [ $# -eq 0 ] || [ "$pg_local" = tcp ]; then
    while IFS= read -r entry; do
      undo_password "$entry"
      removed=1
    done < <(python3 "$here/pgaccess.py" remove-pgpass "$passfile" "${only[@]}")
  fi
  while read -r version name port status _; do
    [ $# -eq 0 ] || { [ "$pg_local" = socket ] && [ "$port" = "$pg_port" ]; } || continue
    local hba ident out
    hba=$(pg_conftool -s "$version" "$name" show hba_file)
    ident=$(pg_conftool -s "$version" "$name" show ident_file)
    out=$(python3 "$here/pgaccess.py" remove-peer "$hba" "$ident" "${only[@]}") || exit 2
    [ -n "$out" ] || continue
    printf '%s\n' "$out"
    removed=1
    [ "$status" != online ] || pg_ctlcluster "$version" "$name" reload
  done < <(pg_lsclusters -h 2>/dev/null)
  [ -n "$removed" ] || say "found nothing granted by gridmap; nothing changed"
}

usage="usage: ensure-db.sh URL | ensure-db.sh --undo [URL]"
case "${1:-}" in
  --undo) shift; [ $# -le 1 ] || { echo "$usage" >&2; exit 2; }; undo "$@" ;;
  "" | -*) echo "$usage" >&2; exit 2 ;;
  *) [ $# -eq 1 ] || { echo "$usage" >&2; exit 2; }; ensure "$1" ;;
esac
