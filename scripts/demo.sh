#!/usr/bin/env bash
# The main job: copy the bundled example into a fresh git repository, let `hone reconcile --wait`
# really fine-tune and evaluate the tiny model, then show what was committed.
# EXAMPLE=lora (make demo EXAMPLE=lora): the LoRA example instead (examples/lora: transformers + PEFT).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hone="${HONE:-$root/.build/release/hone}"
case "${EXAMPLE:-quickstart}" in
  quickstart) ;;
  lora) exec "$root/scripts/demo-lora.sh" ;;
  *) echo "EXAMPLE must be quickstart or lora, not ${EXAMPLE}" >&2; exit 2 ;;
esac
demo="${DEMO_DIR:-$(mktemp -d /tmp/hone-demo.XXXXXX)}"
rm -rf "$demo" && mkdir -p "$demo"
cp -r "$root/examples/quickstart/." "$demo/"
cd "$demo"
git init -q -b main
git add -A
git -c user.name="hone demo" -c user.email=demo@localhost commit -qm "quickstart: two fine-tunes, three evals"
echo "== repository: $demo"
echo "== hone plan"
"$hone" plan
echo "== hone reconcile --wait"
"$hone" reconcile --wait --timeout 10m
echo "== hone get runs"
"$hone" get runs
echo "== hone get evals (through the group's default view)"
"$hone" get evals --group support
if "$hone" compare --help >/dev/null 2>&1; then
  echo "== hone compare support/base-test support/lr-small-test support/lr-large-test"
  "$hone" compare support/base-test support/lr-small-test support/lr-large-test || true
fi
echo "== hone check (the evals' regression gates)"
"$hone" check || true
echo "== git log (what reconcile committed)"
git log --format='%h %s' | head -12
echo "== git status (clean)"
git status --short
echo "Explore it: cd $demo && $hone describe run support/lr-small"
