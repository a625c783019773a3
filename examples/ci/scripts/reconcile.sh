#!/usr/bin/env bash
# Main-branch step (on merge and on a schedule): launch what the files ask for, collect what
# finished, and push statuses, logs and results back to the branch.
#
#   reconcile.sh [hone reconcile options…]      e.g. reconcile.sh --wait --timeout 50m
#
# Env: HONE — the hone binary (default: hone on PATH); HONE_REMOTE — the remote to push to
# (default origin); HONE_REMOTE_URL — if set, the remote's URL is set to it first (an https URL
# carrying a token, for runners whose checkout left no credentials hone can use; hone talks to git
# through libgit2, which ignores git's credential helpers and http.extraheader);
# HONE_GIT_NAME / HONE_GIT_EMAIL — the identity of hone's commits when the checkout has none.
#
# hone pushes after every commit; when the branch moved meanwhile (someone merged), it fetches,
# re-applies its own files on the new tip and pushes again, so nothing is lost and nobody's commit
# is overwritten. Every hone commit carries `Hone-Action:` trailers: CI skips pushes made of them.
set -euo pipefail
hone="${HONE:-hone}"
remote="${HONE_REMOTE:-origin}"
if [ -n "${HONE_REMOTE_URL:-}" ]; then
  git remote set-url "$remote" "$HONE_REMOTE_URL"
fi
if [ -z "$(git config user.email || true)" ]; then
  git config user.name "${HONE_GIT_NAME:-hone}"
  git config user.email "${HONE_GIT_EMAIL:-hone@localhost}"
fi
exec "$hone" reconcile --push "$remote" "$@"
