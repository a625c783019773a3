#!/usr/bin/env bash
# Benchmark of hashing, verifying and collecting big models (issue 15), release build:
#   1. `hone digest` on a 1 GB file beside `openssl dgst -sha256` on the same file (page cache warm, best of
#      REPEAT): the goal is within 1.3x of openssl;
#   2. `hone digest` on a folder of 8 files of 128 MB (hashed on every core) beside openssl on them in turn;
#   3. verification of a 1 GB model version: `hone verify --deep` (reads it) then `hone verify` (the stat
#      cache: the goal is < 20 ms of verification), as `verify` reports its own time;
#   4. a reconcile whose run reads that 1 GB base and writes a 1 GB model (HONE_TIMINGS): collecting it
#      hashes it and hard-links it into the store (goal < 1 s, no copy), and a second run's launch on the
#      unchanged base verifies it from the cache.
#   bench/hashing.sh [MB]   (default 1000; HONE=… to measure a given binary)
set -euo pipefail
MB=${1:-1000}
REPEAT=${REPEAT:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
# HONE=path/to/hone measures that binary instead of building one.
if [ -z "${HONE:-}" ]; then
  echo "building hone (release)…" >&2
  swift build -c release --static-swift-stdlib --product hone >&2
fi
hone="${HONE:-$root/.build/release/hone}"
source "$here/settle.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; mark_deletions' EXIT
best() {  # best wall seconds of REPEAT runs of CMD…, and that run's CPU seconds (user + sys) in $cpu_file
  local b="" s e w
  for _ in $(seq "$REPEAT"); do
    s=$(date +%s.%N); /usr/bin/time -f "%U %S" -o "$tmp/time" "$@" > "$tmp/out" 2>&1; e=$(date +%s.%N)
    w=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$b" ] || awk "BEGIN { exit !($w < $b) }"; then b=$w; awk '{ printf "%.2f", $1 + $2 }' "$tmp/time" > "$tmp/cpu"; fi
  done
  echo "$b"
}
cpu() { cat "$tmp/cpu"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "writing a ${MB} MB file…" >&2
head -c $((MB * 1000000)) /dev/urandom > "$tmp/big.bin"
cat "$tmp/big.bin" > /dev/null
[ "$("$hone" digest "$tmp/big.bin" | cut -c1-64)" = "$(openssl dgst -sha256 -r "$tmp/big.bin" | cut -c1-64)" ] || { echo "digests differ" >&2; exit 1; }
h=$(best "$hone" digest "$tmp/big.bin"); hc=$(cpu)
o=$(best openssl dgst -sha256 "$tmp/big.bin"); oc=$(cpu)
echo "digest of a ${MB} MB file:        hone digest ${h} s (CPU ${hc} s)   openssl dgst -sha256 ${o} s (CPU ${oc} s)   ratio $(ratio "$h" "$o") (goal <= 1.3)"

mkdir -p "$tmp/folder"
for i in 1 2 3 4 5 6 7 8; do head -c $((MB * 125000)) "$tmp/big.bin" | tail -c $((MB * 125000 - i)) > "$tmp/folder/shard-$i.safetensors"; done
cat "$tmp/folder"/* > /dev/null
h=$(best "$hone" digest "$tmp/folder"); hc=$(cpu)
o=$(best bash -c "for f in '$tmp'/folder/*; do openssl dgst -sha256 \"\$f\"; done"); oc=$(cpu)
echo "digest of 8 files, ${MB} MB in all: hone digest ${h} s (CPU ${hc} s, on every core)   openssl one by one ${o} s (CPU ${oc} s)   ratio $(ratio "$h" "$o") ($(nproc) cores; load $(cut -d' ' -f1 /proc/loadavg))"
rm -rf "$tmp/folder"

# A repository whose model version is the 1 GB file (an absolute path, as a big base model would be).
repo="$tmp/repo"
mkdir -p "$repo/models/big" "$repo/datasets/d" "$repo/groups/g/runs" "$repo/handlers"
sha=$(openssl dgst -sha256 -r "$tmp/big.bin" | cut -c1-64)
printf 'kind: Project\nname: bench\npools:\n  local: {executor: local, maxParallel: 2}\n' > "$repo/hone.yaml"
printf 'kind: ModelVersion\nuri: %s\nsha256: %s\n' "$tmp/big.bin" "$sha" > "$repo/models/big/v1.yaml"
echo "some text" > "$repo/data.txt"
printf 'kind: DatasetVersion\nuri: data.txt\nsha256: %s\n' "$(sha256sum "$repo/data.txt" | cut -c1-64)" > "$repo/datasets/d/v1.yaml"
printf 'kind: Group\ndescription: bench\n' > "$repo/groups/g/group.yaml"
# The handler writes a model of the base's size (a copy of another file, not timed by hone).
printf '#!/bin/sh\nhead -c %d /dev/urandom > "$(python3 -c "import json,os; print(json.load(open(os.environ[\\"HONE_JOB\\"]))[\\"outputDir\\"])")/model.safetensors"\n' $((MB * 1000000)) > "$repo/handlers/write.sh"
printf 'kind: Run\nbaseModel: big@v1\ntrainDataset: d@v1\nhandler: sh handlers/write.sh\n' > "$repo/groups/g/runs/first.yaml"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm bench
sleep 2.1   # the racy-timestamp guard: a file changed within 2 s of its hashing is hashed again
"$hone" verify -C "$repo" --deep > "$tmp/deep.txt"
"$hone" verify -C "$repo" > "$tmp/cached.txt"
deep=$(grep -o 'in [0-9.]* ms' "$tmp/deep.txt"); cached=$(grep -o 'in [0-9.]* ms' "$tmp/cached.txt")
wall=$(best "$hone" verify -C "$repo")
echo "verify a ${MB} MB model version:  --deep ${deep#in }   from the stat cache ${cached#in } (goal < 20 ms; whole command ${wall} s)"

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
HONE_TIMINGS=1 "$hone" reconcile -C "$repo" --wait --poll-interval 0.2 > "$tmp/r1.txt" 2>&1
collect=$(grep -o 'collects [0-9.]* ms' "$tmp/r1.txt" | awk '{ if ($2 > m) m = $2 } END { print m }')
stored=$(find "$repo/.hone/store/sha256" -name model.safetensors | head -1)
job=$(find "$repo/.hone/jobs" -path '*/out/model.safetensors' | head -1)
links=$(stat -c %h "$stored")
same=$([ "$(stat -c %i "$stored")" = "$(stat -c %i "$job")" ] && echo "the job's own file (hard link, no copy)" || echo "a copy")
echo "collect a ${MB} MB run output:    ${collect} ms (goal < 1000 ms; hashing included), stored as ${same}, ${links} links"
printf 'kind: Run\nbaseModel: big@v1\ntrainDataset: d@v1\nhandler: "true"\n' > "$repo/groups/g/runs/second.yaml"
sed -i 's/^handler: "true"/handler: sh handlers\/write.sh/' "$repo/groups/g/runs/second.yaml"
git -C "$repo" add -A && git -C "$repo" commit -qm second
HONE_TIMINGS=1 "$hone" reconcile -C "$repo" --wait --poll-interval 0.2 > "$tmp/r2.txt" 2>&1
launch=$(grep -o 'launches [0-9.]* ms' "$tmp/r2.txt" | awk '{ if ($2 > m) m = $2 } END { print m }')
echo "second job on the unchanged base: launch ${launch} ms in all (snapshot, job.json, verification from the cache, run.sh)"
