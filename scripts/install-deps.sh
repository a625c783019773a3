#!/usr/bin/env bash
# Installs what hone needs to build and run on Debian, only when missing:
# libyaml, libgit2 and pkg-config (C libraries hone links), rclone (remote artifact stores: s3://, gs://,
# azure://, sftp://), numpy and pytest for the example handlers;
# with --test also headless Chromium and its WebDriver (the example's chat page is tested in a browser),
# openssh-server (the sftp store test starts its own sshd on loopback) and moto (the S3 server the
# remote-store tests start on loopback);
# and the ML test venv (scripts/ml-venv.sh: torch CPU, transformers, peft) for python/hone_job
# and examples/lora; and JupyterLab's wheels (~/.cache/hone/wheels/jupyterlab) for the debug-session
# tests, whose job scripts install it into their debug layer from there (and PyPI for what is missing).
set -euo pipefail
need=()
packages=(libyaml-dev libgit2-dev pkg-config git rclone)
[ "${1:-}" = "--test" ] && packages+=(chromium chromium-driver openssh-server openssh-client)
for pkg in "${packages[@]}"; do
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
  python3 -c 'import moto.server, flask, flask_cors' 2>/dev/null || python3 -m pip install -q 'moto[server]'
  "$(dirname "$0")/ml-venv.sh" install
  wheels="$HOME/.cache/hone/wheels/jupyterlab"
  ls "$wheels"/jupyterlab-*.whl >/dev/null 2>&1 || python3 -m pip download -q --disable-pip-version-check -d "$wheels" jupyterlab
fi
exit 0
