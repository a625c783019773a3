#!/usr/bin/env bash
# Installs what hone needs to build and run on Debian, only when missing:
# libyaml, libgit2 and pkg-config (C libraries hone links), numpy and pytest for the example handlers.
set -euo pipefail
need=()
for pkg in libyaml-dev libgit2-dev pkg-config git; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH (install Swift 6 from swift.org; /opt/swift/usr/bin on these machines)" >&2; exit 1; }
python3 -c 'import numpy' 2>/dev/null || python3 -m pip install -q numpy
if [ "${1:-}" = "--test" ]; then
  python3 -c 'import pytest, yaml, jsonschema' 2>/dev/null || python3 -m pip install -q pytest pyyaml jsonschema
fi
exit 0
