#!/usr/bin/env bash
# hone plan beside `dvc status` (scale issue): a hone repository of RUNS runs + RUNS evals (one per run,
# `fromRun`) against the DVC project of RUNS stages that does the same training — each stage with its
# command, script and dataset dependencies, parameters and model output, nothing run yet (no dvc.lock) —
# as `dvc status` would answer "what is out of date" for it. Goal: hone ≥ 150× faster at RUNS = 1,000.
# DVC comes from PyPI into a venv (scripts/dvc-venv.sh installs it when missing). Release build, best of
# REPEAT for hone, of DVC_REPEAT for dvc.   bench/dvc.sh [RUNS] [GROUPS]
set -euo pipefail
RUNS=${1:-1000}
GROUPS_N=${2:-10}
REPEAT=${REPEAT:-5}
DVC_REPEAT=${DVC_REPEAT:-2}
GENERATE_ARGS="--evals-per-run 1"
source "$(dirname "$0")/lib.sh"
"$root/scripts/dvc-venv.sh" install
dvc=$("$root/scripts/dvc-venv.sh" dvc)
export DVC_NO_ANALYTICS=1

dvcrepo="$tmp/dvc"
python3 - "$dvcrepo" "$RUNS" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
def write(path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f: f.write(text)
write("handlers/finetune.py", "print('finetune')\n")
for d in range(50): write(f"data/data-{d}.jsonl", f'{{"text": "sample {d}"}}\n')
stages, params = ["stages:"], []
for i in range(n):
    name = f"train-{i:04d}"
    stages.append(f"""  {name}:
    cmd: python handlers/finetune.py --rank {i % 64} --out out/{name}
    deps:
    - handlers/finetune.py
    - data/data-{i % 50}.jsonl
    - data/data-{(i + 1) % 50}.jsonl
    params:
    - {name}.epochs
    - {name}.lr
    - {name}.rank
    outs:
    - out/{name}/model.npz""")
    params.append(f"{name}:\n  epochs: {1 + i % 5}\n  lr: 0.003\n  rank: {i % 64}")
write("dvc.yaml", "\n".join(stages) + "\n")
write("params.yaml", "\n".join(params) + "\n")
PY
git -C "$dvcrepo" init -q -b main
(cd "$dvcrepo" && "$dvc" init -q && "$dvc" config core.analytics false)
git -C "$dvcrepo" add -A
git -C "$dvcrepo" -c user.name=bench -c user.email=bench@example.com commit -qm "dvc benchmark project"

read -r hone_w hone_r < <(measure "$hone" plan -C "$repo" --ref HEAD --format json)
hone_creates=$(grep -c "\"action\": \"create\"" "$tmp/out" || true)
read -r dvc_w dvc_r < <(cd "$dvcrepo" && REPEAT=$DVC_REPEAT measure "$dvc" status)
dvc_changed=$(grep -c '^train-' "$tmp/out" || true)

echo
echo "hone plan vs dvc status: $RUNS runs + $RUNS evals vs $RUNS DVC stages ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
printf "%-52s %8s %8s\n" "case" "wall s" "RSS MiB"
awk -v n="hone plan --ref HEAD --format json ($hone_creates to create)" -v w="$hone_w" -v r="$hone_r" 'BEGIN { printf "%-52s %8.3f %8.1f\n", n, w, r / 1024 }'
awk -v n="dvc status ($dvc_changed stages out of date)" -v w="$dvc_w" -v r="$dvc_r" 'BEGIN { printf "%-52s %8.3f %8.1f\n", n, w, r / 1024 }'
awk -v h="$hone_w" -v d="$dvc_w" 'BEGIN { printf "goal: hone ≥ 150× faster than dvc status: %.0f× — %s\n", d / h, (d >= 150 * h) ? "met" : "NOT met" }'
