#!/usr/bin/env bash
# Makes the Slurm example repository in DIR: the quickstart (handlers, data, model, datasets, runtime),
# with this folder's hone.yaml (a Slurm pool) and specs (pool: gpu) laid over it.
#   examples/slurm/assemble.sh DIR
set -euo pipefail
dest=${1:?usage: assemble.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dest"
cp -r "$here/../quickstart/." "$dest/"
rm -rf "$dest/tests" "$dest/tools"
(cd "$here" && tar cf - --exclude=assemble.sh .) | (cd "$dest" && tar xf -)
echo "assembled the Slurm example in $dest"
