#!/usr/bin/env bash
# The venv the ML tests run in (python/hone_job's Trainer test, examples/lora): the CPU build of torch,
# transformers, peft, safetensors and pytest, pinned, so the example's pretrained model is reproducible.
#   scripts/ml-venv.sh install   create it when missing or when the pins changed (about 80 s on 2 cores)
#   scripts/ml-venv.sh python    print its python when it is complete (exit 1 when there is none)
# It lives outside the work tree (shared by every clone): $HONE_ML_VENV, default ~/.cache/hone/ml-venv.
set -euo pipefail
# Plain `torch` resolves to a CUDA build of several GB; the +cpu build is the one this project runs on.
PINS="torch==2.13.0+cpu transformers==5.25.0 peft==0.21.2 safetensors==0.8.0 pytest"
venv="${HONE_ML_VENV:-$HOME/.cache/hone/ml-venv}"
stamp="$venv/.hone-pins"
complete() { [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$PINS" ]; }
case "${1:-}" in
  python)
    complete || exit 1
    echo "$venv/bin/python" ;;
  install)
    complete && exit 0
    echo "creating the ML test venv $venv ($PINS)"
    rm -rf "$venv.tmp"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv.tmp"
    # torch's +cpu wheels are not on PyPI itself: pip.conf's find-links (/opt/wheels here) or PyTorch's
    # CPU index provide them; HONE_TORCH_INDEX names that index where find-links has no wheel.
    extra=(); [ -n "${HONE_TORCH_INDEX:-}" ] && extra=(--extra-index-url "$HONE_TORCH_INDEX")
    "$venv.tmp/bin/python" -m pip install -q "${extra[@]}" $PINS
    echo "$PINS" > "$venv.tmp/.hone-pins"
    # The venv is complete only once renamed into place: a killed install leaves only $venv.tmp.
    # (A venv's scripts carry its absolute path, so run python as `bin/python -m`, never bin/pip.)
    rm -rf "$venv"
    mv "$venv.tmp" "$venv" ;;
  *)
    echo "usage: $0 install|python" >&2; exit 2 ;;
esac
