#!/usr/bin/env bash
# The venv bench/dvc.sh compares against: DVC from PyPI, pinned, outside the work tree (shared by every
# clone): $HONE_DVC_VENV, default ~/.cache/hone/dvc-venv.
#   scripts/dvc-venv.sh install   create it when missing or when the pin changed
#   scripts/dvc-venv.sh dvc       print its dvc when it is complete (exit 1 when there is none)
set -euo pipefail
PINS="dvc==3.67.1"
venv="${HONE_DVC_VENV:-$HOME/.cache/hone/dvc-venv}"
stamp="$venv/.hone-pins"
complete() { [ -x "$venv/bin/dvc" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$PINS" ]; }
case "${1:-}" in
  dvc)
    complete || exit 1
    echo "$venv/bin/dvc" ;;
  install)
    complete && exit 0
    echo "creating the DVC venv $venv ($PINS)" >&2
    rm -rf "$venv.tmp"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv.tmp"
    "$venv.tmp/bin/python" -m pip install -q $PINS >&2
    echo "$PINS" > "$venv.tmp/.hone-pins"
    # Complete only once renamed into place: a killed install leaves only $venv.tmp. The venv's scripts
    # carry its absolute path, so the console script is rewritten to the final place.
    rm -rf "$venv"
    mv "$venv.tmp" "$venv"
    sed -i "1s|^#!.*|#!$venv/bin/python|" "$venv/bin/dvc" ;;
  *)
    echo "usage: $0 install|dvc" >&2; exit 2 ;;
esac
