#!/usr/bin/env bash
# Benchmark of the Git layer on one big commit (release build of the bench-only `hone-bench` target):
# a repository with N spec files, then one commit of N status files of ~1 KB recorded the way the
# reconciler does it — writeCommit, write the work tree, sync the index — with each step timed.
# Target (issue): one commit of 10,000 status files under 1 s.  Checks git status and git fsck after.
# Usage: bench/commit.sh [FILES] [--stage]   (--stage: sync the index with stage(paths:), re-hashing every file)
set -euo pipefail
FILES=${1:-10000}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
echo "building release…" >&2
swift build -c release --static-swift-stdlib --product hone-bench >&2
source "$here/bench/settle.sh"
settle_after_deletions
work=$(mktemp -d)
trap 'rm -rf "$work"; mark_deletions' EXIT
"$here/.build/release/hone-bench" "$work/repo" "$FILES" "${@:2}"
dirty=$(git -C "$work/repo" status --porcelain | wc -l)
echo "git status --porcelain: $dirty lines (want 0)"
git -C "$work/repo" fsck --strict --no-dangling >/dev/null && echo "git fsck --strict: ok"
git -C "$work/repo" count-objects -v | grep -E '^(count|packs):' | tr '\n' ' '; echo
[ "$dirty" = 0 ]
