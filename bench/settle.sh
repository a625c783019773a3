# Sourced by the benchmarks. On ext4 without a journal (this VM's disk), files created within ~30 s of
# mass deletions are markedly slower to create: every new inode skips the recently deleted ones. Each
# benchmark marks when it removed its temporary repository, and the benchmarks that time file creation
# (commit.sh, reconcile.sh) start at least 31 s after the last such removal (they wait, and say so).
settle_stamp="${TMPDIR:-/tmp}/hone-bench.cleaned"
settle_after_deletions() {
  [ -e "$settle_stamp" ] || return 0
  local wait_s=$(( $(stat -c %Y "$settle_stamp") + 31 - $(date +%s) ))
  if [ "$wait_s" -gt 0 ]; then
    echo "waiting ${wait_s} s: a benchmark removed its files less than 30 s ago" >&2
    sleep "$wait_s"
  fi
}
mark_deletions() { touch "$settle_stamp"; }
