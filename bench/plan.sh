#!/usr/bin/env bash
# Benchmark of `hone plan` (plan issue, item 7): RUNS runs with RUNS recorded statuses (generated from
# `hone plan --format json`, as reconcile would record them), planned with nothing changed, with one
# run changed, and in pull-request mode (`--base HEAD~1`) on that one-file change — beside the floor
# (reading every blob through libgit2 without parsing, bench/floor.c). Release build, best of REPEAT.
#   bench/plan.sh [RUNS] [GROUPS]
set -euo pipefail
RUNS=${1:-10000}
GROUPS_N=${2:-100}
REPEAT=${REPEAT:-3}
MEASURE_OK="0 2"   # plan --detailed-exitcode exits 2 when there are changes
source "$(dirname "$0")/lib.sh"
# Recorded state: a Succeeded status per run and eval, with the id and digest the planner computes
# (runs first: an eval's digest includes the model its run recorded).
record() {
"$hone" plan -C "$repo" --format json > "$tmp/plan.json" || true
python3 "$here/record.py" "$repo" "$tmp/plan.json" "$1"
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm "recorded $1 statuses"
}
record Run
record Eval
files=$(git -C "$repo" ls-files | wc -l)

read -r fl_w fl_r < <(measure "$floor" tree "$repo")
read -r same_w same_r < <(measure "$hone" plan -C "$repo" --ref HEAD --detailed-exitcode)
grep -q "nothing to do" "$tmp/out" || { echo "expected nothing to do:" >&2; tail -3 "$tmp/out" >&2; exit 1; }
# One run changed (a param), committed: a normal plan, and the pull-request plan against the parent.
f=$(find "$repo/groups" -path "*/runs/*.yaml" -print -quit)
sed -i 's/^  epochs: .*/  epochs: 99/' "$f"
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qam "change one run"
read -r one_w one_r < <(measure "$hone" plan -C "$repo" --ref HEAD --detailed-exitcode)
grep -q "1 to rerun" "$tmp/out" || { echo "expected 1 to rerun:" >&2; tail -3 "$tmp/out" >&2; exit 1; }
read -r pr_w pr_r < <(measure "$hone" plan -C "$repo" --base HEAD~1 --detailed-exitcode)
grep -q "1 to rerun" "$tmp/out" || { echo "expected 1 to rerun in PR mode:" >&2; tail -3 "$tmp/out" >&2; exit 1; }

echo
echo "hone plan: $RUNS runs + $RUNS statuses, $files files ($(nproc) cores, best of $REPEAT)"
printf "%-40s %8s %9s %9s\n" "case" "wall s" "RSS MiB" "vs floor"
row() { awk -v n="$1" -v w="$2" -v r="$3" -v f="$fl_w" 'BEGIN { printf "%-40s %8.3f %9.1f %8.1f×\n", n, w, r / 1024, (f > 0 ? w / f : 0) }'; }
row "floor: read every blob (libgit2)" "$fl_w" "$fl_r"
row "hone plan, nothing changed" "$same_w" "$same_r"
row "hone plan, one run changed" "$one_w" "$one_r"
row "hone plan --base HEAD~1 (PR, one file)" "$pr_w" "$pr_r"
awk -v a="$same_w" -v b="$one_w" -v c="$pr_w" -v ra="$same_r" -v rb="$one_r" 'BEGIN {
  printf "targets: plan < 1 s: %s; RSS < 300 MB: %s; PR mode < 0.2 s: %s\n", (a < 1 && b < 1) ? "yes" : "no", (ra < 300*1024 && rb < 300*1024) ? "yes" : "no", (c < 0.2) ? "yes" : "no" }'
