#!/usr/bin/env bash
# Make sure an MQTT broker answers at GRIDMAP_MQTT_URL (default mqtt://127.0.0.1:1883).
#   scripts/ensure-broker.sh [--check]   (--check: exit 0 when one answers, 1 when none; start nothing)
# Idempotent: when one answers, nothing is done. Otherwise Mosquitto (Debian's package, the
# "mqtt" group of scripts/install-system.sh) is started: by its system service when systemd or
# the service command can, else as `mosquitto -d` with var/mosquitto/mosquitto.conf
# (persistence on, listener on the URL's host and port, large queues so that a consumer that is
# away for a while misses nothing). Stop that one with: kill "$(cat var/mosquitto/mosquitto.pid)".
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
if [ "$port" = 1883 ] && [ "$host" != ::1 ]; then
  if command -v systemctl >/dev/null 2>&1 && systemctl start mosquitto 2>/dev/null \
      && wait_for_broker; then
    echo "gridmap: started the mosquitto service (systemctl stop mosquitto stops it)"; exit 0
  fi
  if command -v service >/dev/null 2>&1 && service mosquitto start >/dev/null 2>&1 \
      && wait_for_broker; then
    echo "gridmap: started the mosquitto service (service mosquitto stop stops it)"; exit 0
  fi
fi
dir="$here/var/mosquitto"
mkdir -p "$dir"
cat > "$dir/mosquitto.conf" <<CONF
# written by scripts/ensure-broker.sh
listener $port $host
allow_anonymous true
# stay the user who started it (as root, Mosquitto would switch to "mosquitto", who cannot
# write here)
user $(id -un)
persistence true
persistence_location $dir/
pid_file $dir/mosquitto.pid
log_dest file $dir/mosquitto.log
# a consumer away for a while (a restart, a deployment) gets everything when it returns
max_queued_messages 1000000
max_inflight_messages 0
CONF
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto_bin" -d -c "$dir/mosquitto.conf"
if wait_for_broker; then
  echo "gridmap: started Mosquitto at $url (config $dir/mosquitto.conf;" \
    "kill \$(cat $dir/mosquitto.pid) stops it)"
else
  echo "gridmap: Mosquitto did not start; see $dir/mosquitto.log" >&2; exit 1
fi
