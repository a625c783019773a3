#!/usr/bin/env bash
# Benchmarks of the reconcile engine (release build):
#   1. 200 trivial jobs (handler `true`, maxParallel 2, --wait --poll-interval 0.05) against the same
#      200 processes through `xargs -P2`: hone's overhead per job.  Target: < 20 ms.
#   2. One commit of 10,000 status files (10,000 evals recorded Pending in one intent commit). Target: < 1 s.
# The machine is often shared: run it a few times and compare the best figures. File creation on this VM's
# disk is slow for ~30 s after mass deletions, so it starts 30 s after the last benchmark's clean-up
# (bench/settle.sh says why; it waits, and says so).
# Usage: bench/reconcile.sh [JOBS] [STATUS_FILES]
set -euo pipefail
JOBS=${1:-200}
FILES=${2:-10000}
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

# A repository with N evals of `handler: "true"` in group b, pool local with maxParallel $2.
make_repo() { # DIR N MAXPARALLEL
  local dir=$1 n=$2 par=$3
  mkdir -p "$dir"/{models/base,datasets/d,data,groups/b/evals}
  printf 'base\n' > "$dir/data/base.txt"; printf 'data\n' > "$dir/data/d.txt"
  printf 'kind: Project\nname: bench\npools:\n  local:\n    executor: local\n    maxParallel: %s\n' "$par" > "$dir/hone.yaml"
  printf 'kind: ModelVersion\nuri: data/base.txt\nsha256: %s\n' "$(sha256sum "$dir/data/base.txt" | cut -d' ' -f1)" > "$dir/models/base/v1.yaml"
  printf 'kind: DatasetVersion\nuri: data/d.txt\nsha256: %s\n' "$(sha256sum "$dir/data/d.txt" | cut -d' ' -f1)" > "$dir/datasets/d/v1.yaml"
  printf 'kind: Group\ndescription: bench\n' > "$dir/groups/b/group.yaml"
  for i in $(seq -w 1 "$n"); do
    printf 'kind: Eval\nmodel: base@v1\ndataset: d@v1\nhandler: "true"\nautoRelease: never\n' > "$dir/groups/b/evals/e$i.yaml"
  done
  git -C "$dir" init -q -b main && git -C "$dir" add -A && git -C "$dir" commit -qm "bench: $n evals"
}

now() { date +%s.%N; }

echo "== 1. $JOBS trivial jobs, maxParallel 2" >&2
make_repo "$work/jobs" "$JOBS" 2
t0=$(now)
(cd "$work/jobs" && HONE_TIMINGS=1 "$hone" reconcile --wait --poll-interval 0.05 > "$work/jobs.out" 2> "$work/jobs.err") || { cat "$work/jobs.err" >&2; exit 1; }
t1=$(now)
grep '^hone: timing: total: ' "$work/jobs.err" | sed 's/^hone: timing: total: /  /' | tr -d '\n' | sed 's/; /\n  /; s/$/\n/'
done_count=$(grep -l 'phase: Succeeded' "$work"/jobs/status/groups/b/evals/*.yaml | wc -l)
[ "$done_count" = "$JOBS" ] || { echo "only $done_count of $JOBS jobs succeeded" >&2; exit 1; }
commits=$(git -C "$work/jobs" rev-list --count HEAD)
t2=$(now)
# The same processes hone starts per job (bash run.sh → bash -c true), two at a time.
seq "$JOBS" | xargs -P2 -I{} bash -c 'bash -c true' >/dev/null
t3=$(now)
awk -v h="$(echo "$t1 - $t0" | bc)" -v x="$(echo "$t3 - $t2" | bc)" -v n="$JOBS" -v c="$commits" 'BEGIN {
  printf "hone reconcile --wait: %.2f s for %d jobs (%d commits)\n", h, n, c - 1
  printf "xargs -P2:             %.2f s\n", x
  printf "hone overhead per job: %.1f ms (target < 20 ms)\n", (h - x) * 1000 / n
}'

echo "== 2. one commit of $FILES status files" >&2
make_repo "$work/files" "$FILES" 1
t0=$(now)
(cd "$work/files" && HONE_TIMINGS=1 "$hone" reconcile > "$work/files.out" 2> "$work/files.err") || { tail "$work/files.err" >&2; exit 1; }
t1=$(now)
grep '^hone: timing: ' "$work/files.err" | sed 's/^hone: timing: /  /' | head -6
files=$(git -C "$work/files" show --stat --format= HEAD~1 | tail -1)
awk -v t="$(echo "$t1 - $t0" | bc)" -v f="$FILES" 'BEGIN { printf "whole reconcile (load %d specs, plan, 2 commits, 1 launch): %.2f s\n", f, t }'
echo "  intent commit: $files"
