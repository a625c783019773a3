#!/usr/bin/env bash
# Pull-request step: writes the comment CI posts on a pull request — what hone would launch for this
# change, what it would cost, and the gates that will judge its results.
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
  # The gates this change brings; pending until its evals have results. Their verdict is the
  # separate `hone check` step's, so a failing gate does not stop the comment.
  "$hone" check --base "$base" --format markdown || true
  echo
  echo "<sub>hone plan of $(git rev-parse --short HEAD) against \`$base\` — this comment is updated on every push.</sub>"
} > "$out"
cat "$out"
exit $status
