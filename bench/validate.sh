#!/usr/bin/env bash
# Benchmark of `hone validate` (issue item 8): generates a repository of RUNS runs across GROUPS groups
# (plus models, datasets, runtimes, one eval and one view per group), commits it with the git CLI, and
# times `hone validate` on the working tree and on `--ref HEAD` (release build), beside a floor that
# reads every file without parsing (bench/floor.c: libgit2 for the commit, read(2) for the working tree).
# Each case runs REPEAT times; the best wall time and its peak RSS are shown.
#   bench/validate.sh [RUNS] [GROUPS]       (make bench)
set -euo pipefail
RUNS=${1:-10000}
GROUPS_N=${2:-100}
REPEAT=${REPEAT:-5}
source "$(dirname "$0")/lib.sh"
files=$(git -C "$repo" ls-files | grep -Ec '^(hone\.yaml|(models|datasets|runtimes|groups|evaluations|status)/)')


read -r fl_tree_w fl_tree_r < <(measure "$floor" tree "$repo")
read -r fl_fs_w fl_fs_r < <(measure "$floor" fs "$repo")
read -r y_tree_w y_tree_r < <(measure "$floor" tree "$repo" yaml)
read -r y_fs_w y_fs_r < <(measure "$floor" fs "$repo" yaml)
read -r wt_w wt_r < <(measure "$hone" validate -C "$repo")
read -r head_w head_r < <(measure "$hone" validate -C "$repo" --ref HEAD)
tail -1 "$tmp/out" >&2

row() { # name wall rss floor_wall
  awk -v n="$1" -v w="$2" -v r="$3" -v f="$4" -v files="$files" 'BEGIN {
    fps = w > 0 ? files / w : 0
    ratio = (f != "" && f > 0) ? sprintf("%.1f×", w / f) : "—"
    printf "%-34s %8.3f %10.0f %9.1f %9s\n", n, w, fps, r / 1024, ratio }'
}
echo
echo "hone validate: $RUNS runs in $GROUPS_N groups, $files files ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), best of $REPEAT)"
printf "%-34s %8s %10s %9s %9s\n" "case" "wall s" "files/s" "RSS MiB" "vs floor"
row "floor: read files (read(2))" "$fl_fs_w" "$fl_fs_r" ""
row "  + libyaml events, 1 thread" "$y_fs_w" "$y_fs_r" "$fl_fs_w"
row "hone validate (working tree)" "$wt_w" "$wt_r" "$fl_fs_w"
row "floor: read blobs (libgit2)" "$fl_tree_w" "$fl_tree_r" ""
row "  + libyaml events, 1 thread" "$y_tree_w" "$y_tree_r" "$fl_tree_w"
row "hone validate --ref HEAD" "$head_w" "$head_r" "$fl_tree_w"
echo
target_ok=$(awk -v a="$wt_w" -v b="$head_w" -v fa="$fl_fs_w" -v fb="$fl_tree_w" 'BEGIN { print (a < 1 && b < 1) ? "yes" : "no" }')
echo "target (< 1 s for 10,000 runs): $target_ok"
within=$(awk -v a="$wt_w" -v b="$head_w" -v fa="$fl_fs_w" -v fb="$fl_tree_w" 'BEGIN { printf "working tree %s, --ref HEAD %s", (a <= 3 * fa) ? "yes" : "no", (b <= 3 * fb) ? "yes" : "no" }')
echo "target (within 3× the floor): $within"
echo "(the \"+ libyaml events\" rows are the floor plus libyaml's event parser alone, with no tree and no checks)"
