#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/debian-packages.txt that are not installed yet.
# Idempotent: runs `apt-get update` only when the package lists are missing or older than a day,
# and `apt-get install` only for what is absent. Needs root (or sudo) only when something is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t wanted < <(grep -v '^\s*#' "$here/debian-packages.txt" | awk 'NF{print $1}')
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "deps: all ${#wanted[@]} packages present"; exit 0; fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
lists=/var/lib/apt/lists
if [ -z "$(find "$lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  echo "deps: apt-get update (package lists missing or older than a day)"
  $sudo apt-get update -qq
fi
echo "deps: installing ${missing[*]}"
# Package scripts may try to start services (nginx); the policy below stops that, the
# benchmarks start their own instances on loopback ports.
policy=/usr/sbin/policy-rc.d; made_policy=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null; $sudo chmod +x "$policy"; made_policy=1; fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ $made_policy -eq 1 ] && $sudo rm -f "$policy"
echo "deps: done"
