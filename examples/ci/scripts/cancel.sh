#!/usr/bin/env bash
# Pull-request-closed step: cancels the queued and running jobs the pull request's branch records, so a
# pull request closed without merging keeps no GPU busy. Jobs another branch also records (two pull
# requests declaring the identical run share one job) keep running.
#
#   cancel.sh BRANCH [HEAD_SHA]      e.g. cancel.sh feature/lora-r16 "$PR_HEAD_SHA"
#
# Checks out BRANCH at the remote's tip (or at HEAD_SHA when the remote branch is gone, say deleted
# on close) and runs `hone cancel`; the cancels are recorded on the branch and pushed when the remote
# branch still exists (a deleted branch is not recreated). Env: as reconcile.sh (HONE, HONE_REMOTE,
# HONE_REMOTE_URL, HONE_GIT_NAME / HONE_GIT_EMAIL).
set -euo pipefail
branch="${1:?usage: cancel.sh BRANCH [HEAD_SHA]}"
sha="${2:-}"
hone="${HONE:-hone}"
remote="${HONE_REMOTE:-origin}"
if [ -n "${HONE_REMOTE_URL:-}" ]; then
  git remote set-url "$remote" "$HONE_REMOTE_URL"
fi
if [ -z "$(git config user.email || true)" ]; then
  git config user.name "${HONE_GIT_NAME:-hone}"
  git config user.email "${HONE_GIT_EMAIL:-hone@localhost}"
fi
push=()
if git fetch -q "$remote" "+refs/heads/$branch:refs/remotes/$remote/$branch" 2>/dev/null; then
  git checkout -q -B "$branch" "$remote/$branch"
  push=(--push "$remote")
elif [ -n "$sha" ]; then
  git fetch -q "$remote" "$sha" 2>/dev/null || true
  git checkout -q -B "$branch" "$sha"
else
  echo "cancel.sh: $remote has no branch $branch and no HEAD_SHA was given" >&2
  exit 2
fi
exec "$hone" cancel "${push[@]}"
