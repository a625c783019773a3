"""Schema checks: good files pass, bad ones fail (pytest specs/test_schemas.py)."""
import os
import subprocess
import sys
import textwrap

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_schemas  # noqa: E402

SPECS = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(SPECS, "fixtures", "repo")

GOOD_RUN = """\
kind: Run
baseModel: tiny-char@v1
trainDataset: tickets@v1
handler: python handlers/finetune.py
params: {epochs: 3, lr: 0.003}
"""

GOOD_EVAL = """\
kind: Eval
model: tiny-char@v1
handler: python handlers/evaluate.py
dataset: tickets-test@v1
"""


def problems(tmp_path, rel, text):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    schema, note = check_schemas.classify(rel)
    if schema == "error":
        return [note]
    assert schema, "no schema for %s (%s)" % (rel, note)
    return check_schemas.check_file(str(tmp_path), rel, schema)


def test_schemas_are_up_to_date():
    assert subprocess.run([sys.executable, os.path.join(SPECS, "schema", "generate.py"), "--check"]).returncode == 0


def test_fixture_repository_passes():
    passed, failed = check_schemas.check_repository(FIXTURE, out=lambda _: None)
    assert failed == 0 and passed >= 10


def test_script_exit_codes(tmp_path):
    ok = subprocess.run([sys.executable, os.path.join(SPECS, "check_schemas.py"), FIXTURE], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed")
    (tmp_path / "hone.yaml").write_text("kind: Project\nname: x\npools: {local: {executor: local, colour: red}}\n")
    bad = subprocess.run([sys.executable, os.path.join(SPECS, "check_schemas.py"), str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_good_run_passes(tmp_path):
    assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN) == []


def test_good_eval_passes(tmp_path):
    assert problems(tmp_path, "groups/g/evals/e.yaml", GOOD_EVAL + "autoRelease: 90s\n") == []


def test_unknown_key_fails(tmp_path):
    p = problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN + "learningRate: 0.1\n")
    assert p and "learningRate" in p[0]


def test_unknown_nested_key_fails(tmp_path):
    p = problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN + "publish: {model: bot, az: new}\n")
    assert p and "az" in " ".join(p)


def test_bad_name_fails(tmp_path):
    assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN + "pool: GPU_Pool\n")
    assert problems(tmp_path, "groups/g/evals/e.yaml", GOOD_EVAL.replace("model: tiny-char@v1", "fromRun: -lora"))


def test_bad_name_in_path_fails(tmp_path):
    assert problems(tmp_path, "groups/Support/runs/r.yaml", GOOD_RUN)


def test_bad_ref_fails(tmp_path):
    for bad in ["tiny-char", "tiny-char@", "Tiny@v1", "a@b@c", "tiny char@v1"]:
        assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN.replace("tiny-char@v1", bad)), bad


def test_literal_password_fails(tmp_path):
    p = problems(tmp_path, "groups/g/evals/e.yaml", GOOD_EVAL + "debug: {enabled: true, password: hunter2}\n")
    assert p and "literal secret" in p[0]
    # anywhere in the file, in any case, also in params and env
    assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN.replace("epochs: 3", "Token: abc"))
    assert problems(tmp_path, "runtimes/rt/v1.yaml", "kind: RuntimeVersion\nenv: {API_KEY: x}\n")
    # a null value is not a secret (the loader accepts it)
    assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN + "password:\n") == []


def test_env_names_must_be_variable_names(tmp_path):
    for bad in ["A-B", "X=1; Y", "9x"]:
        assert problems(tmp_path, "runtimes/rt/v1.yaml", "kind: RuntimeVersion\nenv: {\"%s\": x}\n" % bad), bad
    assert problems(tmp_path, "runtimes/rt/v1.yaml", "kind: RuntimeVersion\nenv: {OMP_NUM_THREADS: 1, _x: y}\n") == []


def test_wrong_kind_fails(tmp_path):
    assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN.replace("kind: Run", "kind: Eval"))
    assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN.replace("kind: Run\n", ""))


def test_eval_model_xor_from_run(tmp_path):
    assert problems(tmp_path, "groups/g/evals/e.yaml", GOOD_EVAL + "fromRun: lora\n")
    assert problems(tmp_path, "groups/g/evals/e.yaml", GOOD_EVAL.replace("model: tiny-char@v1\n", ""))
    assert problems(tmp_path, "groups/g/evals/e.yaml", GOOD_EVAL.replace("model: tiny-char@v1", "fromRun: lora")) == []


@pytest.mark.parametrize("value,ok", [("90s", True), ("15m", True), ("2h", True), ("1d", True), ("3600", True),
                                      ("0", True), ("never", True), ('"3600s"', True), ("1.5h", False),
                                      ("soon", False), ("-5m", False), ("15 m", False)])
def test_auto_release(tmp_path, value, ok):
    assert (problems(tmp_path, "groups/g/evals/e.yaml", GOOD_EVAL + "autoRelease: %s\n" % value) == []) == ok


@pytest.mark.parametrize("gate,ok", [('">= baseline - 0.01"', True), ('"<= 12"', True), ('"> baseline"', True),
                                     ('"== 1"', True), ('"<= -0.5"', True), ('"about 12"', False),
                                     ('">= baseline * 2"', False), ('"12"', False)])
def test_gate_grammar(tmp_path, gate, ok):
    text = GOOD_EVAL + "baseline: base\ngates:\n  metrics.accuracy: %s\n" % gate
    assert (problems(tmp_path, "groups/g/evals/e.yaml", text) == []) == ok


def test_relative_gate_needs_baseline(tmp_path):
    text = GOOD_EVAL + "gates:\n  metrics.accuracy: \">= baseline\"\n"
    assert problems(tmp_path, "groups/g/evals/e.yaml", text)
    assert problems(tmp_path, "groups/g/evals/e.yaml", GOOD_EVAL + "gates: {accuracy: \"<= 1\"}\n")


@pytest.mark.parametrize("filt,ok", [('{phase: Succeeded}', True), ('{phase: "!=Failed"}', True), ('{phase: Done}', False),
                                     ('{metrics.accuracy: ">=0.5"}', True), ('{metrics.accuracy: ">=high"}', False),
                                     ('{model: "support-bot@*"}', True), ('{model: ">=a"}', False),
                                     ('{createdAt: ">=2026-01-31"}', True), ('{createdAt: ">=yesterday"}', False),
                                     ('{owner: "!="}', False), ('{colour: red}', False), ('{attempt: 2}', True)])
def test_view_filter(tmp_path, filt, ok):
    assert (problems(tmp_path, "groups/g/views/v.yaml", "kind: View\nfilter: %s\n" % filt) == []) == ok


def test_view_columns(tmp_path):
    assert problems(tmp_path, "groups/g/views/v.yaml", "kind: View\ncolumns: [name, metrics.f1]\nsort: {by: metrics.f1, order: asc}\n") == []
    assert problems(tmp_path, "groups/g/views/v.yaml", "kind: View\ncolumns: [nmae]\n")
    assert problems(tmp_path, "groups/g/views/v.yaml", "kind: View\nsort: {order: up}\n")


def test_slurm_pool_needs_workdir(tmp_path):
    base = "kind: Project\nname: p\npools:\n  gpu:\n    executor: slurm\n    partition: gpu\n"
    assert problems(tmp_path, "hone.yaml", base)
    assert problems(tmp_path, "hone.yaml", base + "    workdir: /shared/hone\n") == []
    assert problems(tmp_path, "hone.yaml", "kind: Project\nname: p\npools: {}\n")
    assert problems(tmp_path, "hone.yaml", "kind: Project\nname: p\npools: {k8s: {executor: kubernetes}}\n")


def test_version_sha256(tmp_path):
    good = "kind: DatasetVersion\nuri: data/x.jsonl\nsha256: " + "a" * 64 + "\n"
    assert problems(tmp_path, "datasets/x/v1.yaml", good) == []
    assert problems(tmp_path, "datasets/x/v1.yaml", good.replace("a" * 64, "A" * 64))
    assert problems(tmp_path, "datasets/x/v1.yaml", good.replace("uri: data/x.jsonl\n", ""))
    assert problems(tmp_path, "datasets/x/v1.yaml", good + "publishedFrom: g/r\n")  # models only


def test_unquoted_number_where_a_string_is_needed(tmp_path):
    assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN.replace("python handlers/finetune.py", "123"))


def test_duplicate_key_fails(tmp_path):
    assert problems(tmp_path, "groups/g/runs/r.yaml", GOOD_RUN + "handler: other\n")


def test_layout_classification():
    c = check_schemas.classify
    assert c("hone.yaml")[0] == "project.json"
    assert c("models/m/v1.yaml")[0] == "model-version.json"
    assert c("models/m/weights.npz") == (None, None)
    assert c("models/m/notes.yml")[1]
    assert c("groups/g/group.yaml")[0] == "group.json"
    assert c("groups/g/runs/r.yaml")[0] == "run.json"
    assert c("groups/g/runs/r.yml")[1].startswith("hone reads .yaml files only")
    assert c("groups/g/README.md")[1]
    assert c("evaluations/e.yaml")[0] == "eval.json"
    assert c("evaluations/views/v.yaml")[0] == "view.json"
    assert c("status/groups/g/runs/r.yaml")[0] == "run-status.json"
    assert c("status/evaluations/e.yaml")[0] == "eval-status.json"
    assert c("status/groups/g/runs/r/train.log") == (None, None)
    assert c("handlers/train.py") == (None, None)
    assert c("models/M/v1.yaml")[0] == "error"
