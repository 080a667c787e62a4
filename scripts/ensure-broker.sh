#!/usr/bin/env bash
# Make sure an MQTT broker answers at GRIDMAP_MQTT_URL (default mqtt://127.0.0.1:1883).
#   scripts/ensure-broker.sh [--check]   (--check: exit 0 when one answers, 1 when none; start nothing)
# Idempotent: when one answers, nothing is done. Otherwise Mosquitto (Debian's package, the
# "mqtt" group of scripts/install-system.sh) is started as `mosquitto -d` with
# var/mosquitto/mosquitto.conf: config/mosquitto/gridmap.conf (no limit on the messages a
# persistent session queues, so a consumer away for a while misses nothing; persistence on)
# plus a listener on the URL's host and port. Not Debian's mosquitto service: its default
# configuration keeps at most 1,000 queued messages per session and drops the rest.
# Stop the one started here with: kill "$(cat var/mosquitto/mosquitto.pid)".
set -euo pipefail

url=${GRIDMAP_MQTT_URL:-mqtt://127.0.0.1:1883}
hostport=${url#mqtt://}
hostport=${hostport%%/*}
host=${hostport%%:*}
port=${hostport##*:}
[ "$port" != "$hostport" ] || port=1883
here=$(cd "$(dirname "$0")/.." && pwd)

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; }
wait_for_broker() {
  for _ in $(seq 1 50); do answers && return 0; sleep 0.1; done
  return 1
}

answers && exit 0
[ "${1:-}" != --check ] || exit 1
case "$host" in
  127.0.0.1|localhost|::1) ;;
  *) echo "gridmap: no MQTT broker answers at $url, and it is not on this machine:" \
       "start it there, or set GRIDMAP_MQTT_URL" >&2; exit 1 ;;
esac
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
  echo "gridmap: no MQTT broker answers at $url and Mosquitto is not installed:" \
    "bash scripts/install-system.sh mqtt (as root)" >&2
  exit 1
fi
dir="$here/var/mosquitto"
mkdir -p "$dir"
{
  echo "# written by scripts/ensure-broker.sh: config/mosquitto/gridmap.conf, then this broker's"
  echo "# listener and paths"
  cat "$here/config/mosquitto/gridmap.conf"
  echo "listener $port $host"
  # stay the user who started it (as root, Mosquitto would switch to the user mosquitto, who
  # cannot write here)
  echo "user $(id -un)"
  echo "persistence_location $dir/"
  echo "pid_file $dir/mosquitto.pid"
  echo "log_dest file $dir/mosquitto.log"
} > "$dir/mosquitto.conf"
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto_bin" -d -c "$dir/mosquitto.conf"
if wait_for_broker; then
  echo "gridmap: started Mosquitto at $url (config $dir/mosquitto.conf;" \
    "kill \$(cat $dir/mosquitto.pid) stops it)"
else
  echo "gridmap: Mosquitto did not start; see $dir/mosquitto.log" >&2; exit 1
fi
