#!/usr/bin/env bash
# Maintainer tool (not run by `make test`): does `make test` pass in a plain clone?
#
#   scripts/check-clean-clone.sh [--keep] [REPOSITORY]
#
# Clones REPOSITORY (default: the one this script is in; its committed HEAD — uncommitted
# changes are not part of the check) into an empty temporary folder with nothing beside it, so
# no ../shared, and runs `make test` there against a scratch database on the server of
# $TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/gridmap_test). Reports the
# result, the failing tests and which of them mention ../shared; then drops the scratch
# database and removes the clone (kept with --keep). The whole log is kept. Exit status: make's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
keep=""
[ "${1:-}" != --keep ] || { keep=1; shift; }
[ $# -le 1 ] || { echo "usage: check-clean-clone.sh [--keep] [REPOSITORY]" >&2; exit 2; }
repo=$(cd "${1:-$here/..}" && git rev-parse --show-toplevel) \
  || { echo "gridmap: ${1:-$here/..} is not a git repository" >&2; exit 2; }
base_url=${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/gridmap_test}
scratch_db="gridmap_clean_clone_$(date +%Y%m%d%H%M%S)_$$"
scratch_url=$(python3 "$here/pgurl.py" --dbname "$scratch_db" "$base_url") || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/gridmap-clean-clone.XXXXXX")
log="$work.log"

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local vars
  vars=$(python3 "$here/pgurl.py" "$scratch_url")
  eval "$vars"  # pg_server_conninfo
  # shellcheck disable=SC2154
  # The end-to-end tests keep a database of their own beside the test database (…_e2e).
  for db in "$scratch_db" "${scratch_db}_e2e"; do
    psql -X -q -d "$pg_server_conninfo" -v db="$db" <<< \
      'drop database if exists :"db" with (force)' 2>/dev/null \
      || echo "gridmap: could not drop the scratch database $db; drop it yourself" >&2
  done
  if [ -n "$keep" ]; then
    echo "gridmap: the clone is kept in $work/gridmap"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

git clone -q "$repo" "$work/gridmap"
commit=$(git -C "$work/gridmap" log -1 --format='%h %s' | cut -c1-72)
echo "gridmap: clean clone of $repo at $commit"
echo "gridmap: in $work/gridmap (nothing beside it: no ../shared); make test with" \
  "TEST_DATABASE_URL=$scratch_url"
status=0
(cd "$work/gridmap" && make test TEST_DATABASE_URL="$scratch_url" DATABASE_URL="$scratch_url") \
  > "$log" 2>&1 || status=$?

summary=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$log" | tail -n 1 || true)
if [ "$status" -eq 0 ]; then
  echo "gridmap: make test passed in the clean clone: ${summary:-see the log}"
else
  echo "gridmap: make test FAILED in the clean clone (exit $status): ${summary:-see the log}"
  grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /' || tail -n 5 "$log" | sed 's/^/    /'
  # pytest's failure sections ("____ test_name ____") that mention a shared/ path
  shared=$(awk '/^_{3,} .* _{3,}$/ {name=$0; gsub(/^_+ | _+$/, "", name)}
                /\.\.\/shared|\/shared\/data/ && name != "" {print name; name=""}' "$log")
  if [ -n "$shared" ]; then
    echo "gridmap: of these, the ones that read ../shared (test data not in the repository):"
    while IFS= read -r name; do echo "    $name"; done <<< "$shared"
  else
    echo "gridmap: none of the failures mention ../shared"
  fi
fi
echo "gridmap: full log: $log"
exit "$status"
