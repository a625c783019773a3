#!/usr/bin/env bash
# scripts/lora-repo.sh DIR: DIR becomes the LoRA example as a hone repository of its own (a fresh git
# repository, one commit): examples/lora plus lib/hone_job, a copy of the handler kit (python/hone_job)
# that the handlers import (the runtime sets PYTHONPATH=lib). Used by make demo EXAMPLE=lora and the CI test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$1"
rm -rf "$dir" && mkdir -p "$dir"
cp -r "$root/examples/lora/." "$dir/"
rm -rf "$dir/tests" "$dir/.pytest_cache"
find "$dir" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$dir/lib"
cp -r "$root/python/hone_job/hone_job" "$dir/lib/hone_job"
find "$dir/lib" -name __pycache__ -prune -exec rm -rf {} +
cd "$dir"
git init -q -b main
git add -A
git -c user.name="hone demo" -c user.email=demo@localhost commit -qm "lora: two LoRA fine-tunes, four evals, one publish"
