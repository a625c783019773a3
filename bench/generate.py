#!/usr/bin/env python3
"""Generates a hone repository for benchmarks: RUNS runs across GROUPS groups, with the models, datasets
and runtimes they reference, one eval and one view per group. Every file is valid."""
import argparse, os

SHA = "3b1f" + "0" * 60

def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--runs", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=100)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--datasets", type=int, default=50)
    ap.add_argument("--runtimes", type=int, default=5)
    # 0: one eval per group (of its first run); 1: also one eval per run (`fromRun`), the eval-heavy case.
    ap.add_argument("--evals-per-run", type=int, default=0, choices=(0, 1))
    a = ap.parse_args()
    r = a.root
    write(r, "hone.yaml", """# benchmark project
kind: Project
name: bench
owner: ml-platform
store: .hone/store
pools:
  local:
    executor: local
    maxParallel: 2
    costPerHour: 0
  gpu:
    executor: slurm
    partition: gpu
    gres: "gpu:1"
    workdir: /shared/hone
    costPerHour: 2.5
    maxHours: 24
""")
    write(r, ".gitignore", ".hone/\n")
    # The scripts the handlers name: validate checks that they exist.
    write(r, "handlers/finetune.py", "print('finetune')\n")
    write(r, "handlers/evaluate.py", "print('evaluate')\n")
    for m in range(a.models):
        write(r, f"models/base-{m}/v1.yaml", f"kind: ModelVersion\nuri: artifacts/base-{m}.npz\nsha256: {SHA}\ndescription: base model {m}\n")
    for d in range(a.datasets):
        for v in (1, 2):
            write(r, f"datasets/data-{d}/v{v}.yaml", f"kind: DatasetVersion\nuri: data/{d}-{v}.jsonl\nsha256: {SHA}\n")
    for t in range(a.runtimes):
        write(r, f"runtimes/rt-{t}/v1.yaml", f'kind: RuntimeVersion\npython: python3\nrequirements: ["numpy>=1.26", "tokenizers==0.{t}"]\nenv: {{OMP_NUM_THREADS: "1"}}\n')
    per_group = (a.runs + a.groups - 1) // a.groups
    n = 0
    for g in range(a.groups):
        gname = f"group-{g:03d}"
        write(r, f"groups/{gname}/group.yaml", f"kind: Group\ndescription: Benchmark group {g}, fine-tunes of every size\n")
        first = None
        for i in range(per_group):
            if n >= a.runs:
                break
            n += 1
            name = f"run-{i:04d}"
            first = first or name
            write(r, f"groups/{gname}/runs/{name}.yaml", f"""# run {i} of group {g}
kind: Run
description: rank-{i % 64} adapter, lr 3e-3
pool: {"gpu" if i % 3 == 0 else "local"}
baseModel: base-{i % a.models}@v1
trainDataset: data-{i % a.datasets}@v{1 + i % 2}
validationDataset: data-{(i + 1) % a.datasets}@v1
runtime: rt-{i % a.runtimes}@v1
handler: python handlers/finetune.py --rank {i % 64}
params:
  epochs: {1 + i % 5}
  lr: 0.003
  rank: {i % 64}
  schedule: cosine
  tags: [bench, "g{g}"]
owner: user{i % 17}
rerun: 0
onChange: {"wait" if i % 7 == 0 else "cancel"}
""")
            if a.evals_per_run:
                write(r, f"groups/{gname}/evals/{name}-eval.yaml", f"""kind: Eval
pool: local
fromRun: {name}
handler: python handlers/evaluate.py --shard {i % 8}
dataset: data-{i % a.datasets}@v1
runtime: rt-{i % a.runtimes}@v1
params:
  batch: {8 << (i % 3)}
autoRelease: 3600s
gates:
  metrics.accuracy: ">= 0.5"
""")
        if first and not a.evals_per_run:
            write(r, f"groups/{gname}/evals/{first}-test.yaml", f"""kind: Eval
pool: local
fromRun: {first}
handler: python handlers/evaluate.py
dataset: data-0@v1
runtime: rt-0@v1
params: {{}}
autoRelease: 3600s
debug:
  enabled: false
  passwordEnv: HONE_DEBUG_PASSWORD
gates:
  metrics.perplexity: "<= 12"
""")
        write(r, f"groups/{gname}/views/accuracy-first.yaml", """kind: View
columns: [name, model, dataset, phase, metrics.accuracy, createdAt]
pinned: [name]
filter: {phase: Succeeded, model: "support-bot@*", metrics.accuracy: ">=0.5"}
sort: {by: createdAt, order: desc}
default: true
visible: true
""")
    print(f"generated {n} runs{' and as many evals' if a.evals_per_run else ''} in {a.groups} groups under {r}")

if __name__ == "__main__":
    main()
