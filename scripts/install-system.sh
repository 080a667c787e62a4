#!/usr/bin/env bash
# Installs the Debian packages gridmap needs, only those that are missing.
set -euo pipefail
packages=(postgresql postgresql-15-postgis-3 chromium chromium-driver fonts-wqy-microhei python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "gridmap: missing Debian packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "gridmap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
