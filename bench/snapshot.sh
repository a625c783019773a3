#!/usr/bin/env bash
# What each job's private src/ costs (specs/job-contract.md; release build). For JOBS evals of one
# commit, run one at a time, hone's launch time per job (HONE_TIMINGS "launches": src/, the inputs' sha256,
# job.json and the spawn), with a handler that leaves src/ alone (the next job takes that src/ over) and one
# that writes into it (every job then gets a fresh copy), on two trees: the quickstart example and a
# generated one of 2,000 files / 200 MB. Beside them, per copy of the same tree: `cp -al` (hard links, what
# jobs shared before their copies were private) and `cp -r --reflink=auto`.
# Usage: bench/snapshot.sh [JOBS]
set -euo pipefail
JOBS=${1:-12}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
echo "building release…" >&2
swift build -c release --static-swift-stdlib --product hone >&2
hone="$here/.build/release/hone"
source "$here/bench/settle.sh"
settle_after_deletions
work=$(mktemp -d)
trap 'rm -rf "$work"; mark_deletions' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

# A repository holding TREE under payload/, with N evals of HANDLER in group b, pool local, one job at a time.
make_repo() { # DIR TREE N HANDLER
  local dir=$1 tree=$2 n=$3 handler=$4
  mkdir -p "$dir"/{models/base,datasets/d,data,groups/b/evals}
  cp -r "$tree" "$dir/payload"
  printf 'base\n' > "$dir/data/base.txt"; printf 'data\n' > "$dir/data/d.txt"
  printf 'kind: Project\nname: bench\npools:\n  local:\n    executor: local\n    maxParallel: 1\n' > "$dir/hone.yaml"
  printf 'kind: ModelVersion\nuri: data/base.txt\nsha256: %s\n' "$(sha256sum "$dir/data/base.txt" | cut -d' ' -f1)" > "$dir/models/base/v1.yaml"
  printf 'kind: DatasetVersion\nuri: data/d.txt\nsha256: %s\n' "$(sha256sum "$dir/data/d.txt" | cut -d' ' -f1)" > "$dir/datasets/d/v1.yaml"
  printf 'kind: Group\ndescription: bench\n' > "$dir/groups/b/group.yaml"
  for i in $(seq -w 1 "$n"); do
    printf 'kind: Eval\nmodel: base@v1\ndataset: d@v1\nhandler: "%s"\nautoRelease: never\n' "$handler" > "$dir/groups/b/evals/e$i.yaml"
  done
  git -C "$dir" init -q -b main && git -C "$dir" add -A && git -C "$dir" commit -qm "bench: $n evals"
}

# Launch milliseconds of each job, one per line (one job per pass: maxParallel 1).
launch_times() { # DIR
  (cd "$1" && HONE_TIMINGS=1 "$hone" reconcile --wait --poll-interval 0.05 > "$1.out" 2> "$1.err") || { cat "$1.err" >&2; exit 1; }
  sed -n 's/.*timing: launch and collect (launches \([0-9.]*\) ms.*/\1/p' "$1.err" | awk '$1 > 0'
}

# "first (includes extracting the snapshot once) / median of the others" of a list of milliseconds.
summary() {
  sort -n <(tail -n +2 "$1") > "$1.rest"
  awk -v first="$(head -1 "$1")" '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "first %.1f ms, then median %.1f ms (%d jobs)", first, m, NR + 1 }' "$1.rest"
}

# Median of 5 copies of TREE (MODE links: cp -al; copy: cp -r --reflink=auto), each into a new folder.
copy_ms() { # TREE MODE
  local tree=$1 mode=$2 i start end
  for i in 1 2 3 4 5; do
    start=$(date +%s%N)
    case $mode in
      links) cp -al "$tree" "$work/copy.$i" ;;
      copy) cp -r --reflink=auto "$tree" "$work/copy.$i" ;;
    esac
    end=$(date +%s%N)
    echo $(( (end - start) / 1000 ))
  done | sort -n | awk 'NR == 3 { printf "%.1f ms", $1 / 1000 }'
  rm -rf "$work"/copy.*
}

bench_tree() { # NAME TREE
  local name=$1 tree=$2 files bytes
  files=$(find "$tree" -type f | wc -l); bytes=$(du -sb "$tree" | cut -f1)
  echo "== $name: $files files, $(( bytes / 1000000 )) MB (+ the repository's own few files)"
  make_repo "$work/$name-read" "$tree" "$JOBS" true
  launch_times "$work/$name-read" > "$work/$name-read.ms"
  echo "  handler leaves src/ alone:  $(summary "$work/$name-read.ms")"
  make_repo "$work/$name-write" "$tree" "$JOBS" "touch payload/scribble"
  launch_times "$work/$name-write" > "$work/$name-write.ms"
  echo "  handler writes into src/:   $(summary "$work/$name-write.ms")"
  echo "  per copy of the tree: cp -al $(copy_ms "$tree" links), cp -r --reflink=auto $(copy_ms "$tree" copy)"
}

bench_tree quickstart "$here/examples/quickstart"

echo "generating 2,000 files of 100 kB…" >&2
python3 - "$work/big" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(20):
    os.makedirs(os.path.join(root, "d%02d" % d))
    for f in range(100):
        with open(os.path.join(root, "d%02d" % d, "f%03d.bin" % f), "wb") as out:
            out.write(os.urandom(100_000))
EOF
bench_tree big "$work/big"
