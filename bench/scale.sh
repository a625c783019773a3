#!/usr/bin/env bash
# Benchmark of the eval-heavy case (scale issue): RUNS runs and as many evals (one per run, `fromRun`) in
# GROUPS groups, committed. Each goal is printed beside the figure it is measured against, in the same run:
#   * `hone plan --ref HEAD --format json`, nothing recorded, then with a Succeeded status per run and eval
#     (2 × RUNS statuses): < 0.5 s and < 200 MB;
#   * `hone validate --ref HEAD`: ≤ 1.5 × the git read floor (`git cat-file --batch-all-objects --batch`,
#     every object of the repository read and written out);
#   * `hone get runs`, `hone get evals` and `hone compare` (the 100 evals of one group) over the RUNS
#     recorded evals: < 0.5 s each.
# Release build, best of REPEAT.   bench/scale.sh [RUNS] [GROUPS]
set -euo pipefail
RUNS=${1:-10000}
GROUPS_N=${2:-100}
REPEAT=${REPEAT:-3}
GENERATE_ARGS="--evals-per-run 1"
source "$(dirname "$0")/lib.sh"
git_floor() { git -C "$repo" cat-file --batch-all-objects --batch > /dev/null; }

read -r gf_w gf_r < <(measure bash -c "$(declare -f git_floor); repo='$repo'; git_floor")
read -r val_w val_r < <(measure "$hone" validate -C "$repo" --ref HEAD)
read -r fresh_w fresh_r < <(measure "$hone" plan -C "$repo" --ref HEAD --format json)
cp "$tmp/out" "$tmp/plan.json"
creates=$(python3 -c 'import json,sys; print(sum(a["action"] == "create" for a in json.load(open(sys.argv[1]))["actions"]))' "$tmp/plan.json")
read -r text_w text_r < <(measure "$hone" plan -C "$repo" --ref HEAD)

# Recorded state, as reconcile would leave it: runs first (an eval's digest includes its run's model).
record() {
  "$hone" plan -C "$repo" --format json > "$tmp/plan.json" || true
  python3 "$here/record.py" "$repo" "$tmp/plan.json" "$1"
  git -C "$repo" add -A
  git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm "recorded $1 statuses"
}
record Run
record Eval
statuses=$(git -C "$repo" ls-files status | wc -l)
read -r rec_w rec_r < <(measure "$hone" plan -C "$repo" --ref HEAD --format json)
noops=$(python3 -c 'import json,sys; print(sum(a["action"] == "noop" for a in json.load(open(sys.argv[1]))["actions"]))' "$tmp/out")
read -r runs_w runs_r < <(measure "$hone" get runs -C "$repo" --ref HEAD)
read -r evals_w evals_r < <(measure "$hone" get evals -C "$repo" --ref HEAD)
rows=$(($(wc -l < "$tmp/out") - 1))
group_evals=$(git -C "$repo" ls-files 'groups/group-000/evals/*.yaml' | sed 's|groups/\([^/]*\)/evals/\(.*\)\.yaml|\1/\2|')
read -r cmp_w cmp_r < <(measure "$hone" compare -C "$repo" --ref HEAD $group_evals)
compared=$(echo "$group_evals" | wc -l)

echo
echo "hone at scale: $RUNS runs + $RUNS evals in $GROUPS_N groups ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), best of $REPEAT)"
printf "%-58s %8s %8s  %-26s %s\n" "case" "wall s" "RSS MiB" "goal" "met"
row() { # name wall rss goal-text ok
  awk -v n="$1" -v w="$2" -v r="$3" -v g="$4" -v ok="$5" 'BEGIN { printf "%-58s %8.3f %8.1f  %-26s %s\n", n, w, r / 1024, g, ok ? "yes" : "NO" }'
}
fast() { awk -v w="$1" -v r="$2" 'BEGIN { print (w < 0.5 && r < 200 * 1024) ? 1 : 0 }'; }
row "git cat-file --batch-all-objects --batch (read floor)" "$gf_w" "$gf_r" "—" 1
row "hone validate --ref HEAD" "$val_w" "$val_r" "≤ 1.5× floor: $(awk -v a="$val_w" -v b="$gf_w" 'BEGIN { printf "%.2f×", a / b }')" \
  "$(awk -v a="$val_w" -v b="$gf_w" 'BEGIN { print a <= 1.5 * b ? 1 : 0 }')"
row "hone plan --format json, nothing recorded ($creates create)" "$fresh_w" "$fresh_r" "< 0.5 s, < 200 MB" "$(fast "$fresh_w" "$fresh_r")"
row "hone plan (text), nothing recorded" "$text_w" "$text_r" "< 0.5 s, < 200 MB" "$(fast "$text_w" "$text_r")"
row "hone plan --format json, $statuses statuses ($noops noop)" "$rec_w" "$rec_r" "< 0.5 s, < 200 MB" "$(fast "$rec_w" "$rec_r")"
row "hone get runs ($RUNS recorded)" "$runs_w" "$runs_r" "< 0.5 s" "$(fast "$runs_w" 0)"
row "hone get evals ($rows rows)" "$evals_w" "$evals_r" "< 0.5 s" "$(fast "$evals_w" 0)"
row "hone compare ($compared evals of one group)" "$cmp_w" "$cmp_r" "< 0.5 s" "$(fast "$cmp_w" 0)"
