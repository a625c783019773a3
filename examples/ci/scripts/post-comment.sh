#!/usr/bin/env bash
# Posts FILE as ONE comment on the pull request (GitHub) or merge request (GitLab): the first run
# creates it, later runs edit it in place, so a pull request carries one up-to-date hone plan
# instead of one comment per push. The comment is found by a hidden marker in its body.
#
#   post-comment.sh FILE
#
# GitHub (default): GITHUB_TOKEN (the workflow's token, `pull-requests: write`), GITHUB_REPOSITORY
#   (owner/name), PR_NUMBER, GITHUB_API_URL (set by Actions; default https://api.github.com).
# GitLab (when GITLAB_CI=true or HONE_FORGE=gitlab): HONE_GITLAB_TOKEN (a project access token with
#   `api` scope: CI_JOB_TOKEN cannot write notes), CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID.
# HONE_COMMENT_MARKER: the marker (default <!-- hone-plan -->); FILE should contain it (pr-plan.sh
#   writes it first); it is added when missing.
# Needs curl and python3 (JSON). Only the forge's REST API is used.
set -euo pipefail
file="${1:?usage: post-comment.sh FILE}"
marker="${HONE_COMMENT_MARKER:-<!-- hone-plan -->}"
forge="${HONE_FORGE:-}"
if [ -z "$forge" ]; then
  if [ "${GITLAB_CI:-}" = "true" ]; then forge=gitlab; else forge=github; fi
fi

# The request body: {"body": FILE}, with the marker, capped below the forges' comment limits.
payload="$(mktemp)"
trap 'rm -f "$payload"' EXIT
python3 - "$file" "$marker" > "$payload" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
marker = sys.argv[2]
if marker not in text:
    text = marker + "\n" + text
# GitHub and GitLab refuse comments over 65,536 characters: cut at a line, close what the cut leaves
# open (a code fence, <details>), and say so. hone's own markdown already keeps each part short.
limit = 65536 - 400
if len(text) > limit:
    cut = text.rfind("\n", 0, limit)
    text = text[:cut if cut > 0 else limit]
    fences = [l for l in text.split("\n") if l.startswith("```")]
    if len(fences) % 2 == 1:
        opening = fences[-1]
        text += "\n" + opening[:len(opening) - len(opening.lstrip("`"))]
    text += "\n</details>" * max(0, text.count("<details>") - text.count("</details>"))
    text += "\n\n_… cut to fit the 65,536-character limit of a comment: run `hone plan`, `hone compare --base` and `hone check --base` for the rest._\n"
print(json.dumps({"body": text}))
PY

# Prints the id of the first comment whose body holds the marker (reads a JSON array on stdin).
find_marked() {
  python3 -c '
import json, sys
marker = sys.argv[1]
for c in json.load(sys.stdin):
    if marker in (c.get("body") or ""):
        print(c["id"]); break
' "$marker"
}
# Prints the number of items of a JSON array on stdin.
count() { python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

case "$forge" in
  github)
    api="${GITHUB_API_URL:-https://api.github.com}"
    repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY (owner/name) is not set}"
    pr="${PR_NUMBER:?PR_NUMBER is not set}"
    auth=(-H "Authorization: Bearer ${GITHUB_TOKEN:?GITHUB_TOKEN is not set}" -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28")
    list="$api/repos/$repo/issues/$pr/comments"
    edit() { echo "$api/repos/$repo/issues/comments/$1"; }
    update_method=PATCH
    ;;
  gitlab)
    api="${CI_API_V4_URL:?CI_API_V4_URL is not set}"
    project="${CI_PROJECT_ID:?CI_PROJECT_ID is not set}"
    mr="${CI_MERGE_REQUEST_IID:?CI_MERGE_REQUEST_IID is not set (run in a merge request pipeline)}"
    auth=(-H "PRIVATE-TOKEN: ${HONE_GITLAB_TOKEN:?HONE_GITLAB_TOKEN (a project access token with api scope) is not set}")
    list="$api/projects/$project/merge_requests/$mr/notes"
    edit() { echo "$api/projects/$project/merge_requests/$mr/notes/$1"; }
    update_method=PUT
    ;;
  *) echo "post-comment.sh: unknown HONE_FORGE $forge (github or gitlab)" >&2; exit 2 ;;
esac

# Find the earlier comment, page by page (100 a page; a page with fewer is the last).
id=""
page=1
while [ -z "$id" ]; do
  body="$(curl -fsS "${auth[@]}" "$list?per_page=100&page=$page")"
  id="$(printf '%s' "$body" | find_marked)"
  [ "$(printf '%s' "$body" | count)" -lt 100 ] && break
  page=$((page + 1))
done

if [ -n "$id" ]; then
  curl -fsS -o /dev/null -X "$update_method" "${auth[@]}" -H "Content-Type: application/json" --data-binary "@$payload" "$(edit "$id")"
  echo "updated comment $id"
else
  curl -fsS -o /dev/null -X POST "${auth[@]}" -H "Content-Type: application/json" --data-binary "@$payload" "$list"
  echo "created a comment"
fi
