# Shared by bench/validate.sh and bench/plan.sh (sourced, not run): builds hone (release) and the floor
# program, generates and commits a repository of RUNS runs in GROUPS_N groups, and times commands.
# Sets: here, root, hone, floor, tmp (removed on exit unless KEEP is set), repo. GENERATE_ARGS: more generate.py options.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
# HONE_BIN=/path/to/hone times that binary instead (an older build, for before/after figures).
if [ -n "${HONE_BIN:-}" ]; then
  hone=$HONE_BIN
else
  echo "building hone (release)…" >&2
  swift build -c release --static-swift-stdlib --product hone >&2
  hone="$root/.build/release/hone"
fi
floor="$root/.build/release/hone-bench-floor"
cc -O2 "$here/floor.c" $(pkg-config --cflags --libs libgit2 yaml-0.1) -o "$floor"

tmp=$(mktemp -d)
source "$here/settle.sh"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"; mark_deletions' EXIT
repo="$tmp/repo"
python3 "$here/generate.py" "$repo" --runs "$RUNS" --groups "$GROUPS_N" ${GENERATE_ARGS:-} >&2
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm "benchmark repository"

# measure CMD… → "wall_seconds peak_rss_kb" of the fastest of REPEAT runs. Exit statuses listed in
# MEASURE_OK (default 0) count as success; the last run's output is left in $tmp/out.
measure() {
  local best_wall="" best_rss="" status start end wall rss
  for _ in $(seq "$REPEAT"); do
    status=0
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$tmp/time" "$@" > "$tmp/out" 2>&1 || status=$?
    end=$(date +%s.%N)
    if ! [[ " ${MEASURE_OK:-0} " == *" $status "* ]]; then echo "failed ($status): $*" >&2; tail -5 "$tmp/out" >&2; exit 1; fi
    # Wall time from date(1) (ms resolution; /usr/bin/time rounds to 10 ms), peak RSS from /usr/bin/time.
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time")
    if [ -z "$best_wall" ] || awk "BEGIN { exit !($wall < $best_wall) }"; then best_wall=$wall; best_rss=$rss; fi
  done
  echo "$best_wall $best_rss"
}
