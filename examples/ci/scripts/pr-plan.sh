#!/usr/bin/env bash
# Pull-request step: writes the comment CI posts on a pull request — what hone would launch for this
# change and what it would cost; once the branch is reconciled (reconcile.sh on the pull request's
# branch), the results of every eval it changes, compared with each eval's pinned baseline as BASE
# records it (main's result, not the branch's copy); and every gate's verdict. Run it before and after
# the reconcile: post-comment.sh edits the one comment in place.
#
#   pr-plan.sh BASE_REF [OUT_FILE]      e.g. pr-plan.sh origin/main plan.md
#
# Env: HONE — the hone binary (default: hone on PATH); HONE_COMMENT_MARKER — the hidden marker
# post-comment.sh finds the comment by (default <!-- hone-plan -->).
# The file is written even when the change is invalid (the comment shows the errors); the exit
# status is then 1, so the step fails after the comment is posted (post-comment runs `if: always()`).
set -uo pipefail
base="${1:?usage: pr-plan.sh BASE_REF [OUT_FILE]}"
out="${2:-plan.md}"
hone="${HONE:-hone}"
marker="${HONE_COMMENT_MARKER:-<!-- hone-plan -->}"

status=0
"$hone" validate >&2 || status=1          # every file, with path:line:col, into the job log
{
  echo "$marker"
  "$hone" plan --base "$base" --format markdown || status=1
  echo
  # Results per changed eval against its baseline on BASE (nothing yet before the branch's jobs ran).
  "$hone" compare --base "$base" --format markdown || true
  echo
  # The gates this change brings; pending until its evals have results. Their verdict is the
  # separate `hone check` step's, so a failing gate does not stop the comment.
  "$hone" check --base "$base" --format markdown || true
  echo
  echo "<sub>hone of $(git rev-parse --short HEAD) against \`$base\` — this comment is updated on every push and every reconcile of the branch.</sub>"
} > "$out"
cat "$out"
exit $status
