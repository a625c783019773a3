#!/usr/bin/env bash
# make demo EXAMPLE=lora: the LoRA example (examples/lora) in a fresh git repository. hone builds the runtime
# (torch CPU, transformers, peft, safetensors, pinned) once, fine-tunes tiny-gpt twice with PEFT LoRA
# (ranks 4 and 16), evaluates the base and each adapter, publishes the rank-16 adapter and evaluates it as
# published. Everything runs offline on the CPU: a few minutes on 2 cores, plus the runtime's first build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hone="${HONE:-$root/.build/release/hone}"
demo="${DEMO_DIR:-$(mktemp -d /tmp/hone-lora.XXXXXX)}"
"$root/scripts/lora-repo.sh" "$demo"
cd "$demo"
echo "== repository: $demo"
echo "== hone plan"
"$hone" plan
echo "== hone reconcile --wait (the runtime is built first: pip install of torch, transformers, peft)"
"$hone" reconcile --wait --timeout 30m
echo "== hone get runs"
"$hone" get runs
echo "== hone get evals"
"$hone" get evals --group pyqa
echo "== hone compare pyqa/base-test pyqa/lora-r4-test pyqa/lora-r16-test pyqa/published-test"
"$hone" compare pyqa/base-test pyqa/lora-r4-test pyqa/lora-r16-test pyqa/published-test || true
echo "== hone get playgrounds (the published adapter, served; its chat page is at the endpoint)"
"$hone" get playgrounds
echo "== hone chat pyqa/pyqa-chat \"How do I delete a file?\""
"$hone" chat pyqa/pyqa-chat "How do I delete a file?" || true
echo "== hone check"
"$hone" check || true
echo "== models/pyqa-lora/v1.yaml (the published adapter: its base, its files; no checkpoint)"
cat models/pyqa-lora/v1.yaml
echo "== hone verify (the inputs again, from the stat cache)"
"$hone" verify || true
echo "== git log (what reconcile committed)"
git log --format='%h %s' | head -12
echo "Explore it: cd $demo && $hone describe run pyqa/lora-r16"
echo "The playground runs until released (1h, or 30m idle); stop it now: git rm groups/pyqa/playgrounds/pyqa-chat.yaml, commit, $hone reconcile"
