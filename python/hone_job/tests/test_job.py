"""hone_job.load() and the Job's readers and writers, against job.json files shaped like hone's."""

import json
import os
import warnings

import pytest

import hone_job
from hone_job import HoneJobError, NonFiniteWarning
from conftest import lines, strict


# ------------------------------------------------------------------ load


def test_load_reads_hone_job(job_file, tmp_path):
    job_file()
    job = hone_job.load()
    assert job.kind == "run" and job.object == "support/lora-r8" and job.id == "j-1" and job.attempt == 0
    assert job.params == {"lr": 0.001, "epochs": 2}
    assert job.output_dir == str(tmp_path / "out")
    base = job.input("baseModel")
    assert (base.name, base.version, base.ref) == ("tiny-gpt", "v1", "tiny-gpt@v1")
    assert base.path == str(tmp_path / "base") and base.digest == "ab" * 32
    assert set(job.inputs) == {"baseModel", "trainDataset"}


def test_load_without_hone_job_says_how_to_run_by_hand(monkeypatch):
    monkeypatch.delenv("HONE_JOB", raising=False)
    with pytest.raises(HoneJobError, match=r"HONE_JOB is not set.*HONE_JOB=path/to/job.json"):
        hone_job.load()


def test_missing_job_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("HONE_JOB", str(tmp_path / "nope.json"))
    with pytest.raises(HoneJobError, match=rf"^{tmp_path}/nope.json: job file not found"):
        hone_job.load()


def test_malformed_job_file_names_file_line_and_column(tmp_path):
    bad = tmp_path / "job.json"
    bad.write_text('{\n  "kind": "run",\n  "outputDir": \n}\n')
    with pytest.raises(HoneJobError, match=rf"^{bad}:4:1: job file is not valid JSON: Expecting value"):
        hone_job.load(str(bad))


def test_job_file_must_be_an_object(tmp_path):
    bad = tmp_path / "job.json"
    bad.write_text("[1, 2]")
    with pytest.raises(HoneJobError, match=rf"{bad}: job file must be a JSON object, found list"):
        hone_job.load(str(bad))


def test_missing_output_dir(job_file):
    path = job_file(outputDir=None)
    with pytest.raises(HoneJobError, match=rf'{path}: missing "outputDir"'):
        hone_job.load()


@pytest.mark.parametrize("field,value,message", [
    ("params", [1], r'"params" must be an object, found list'),
    ("attempt", "2", r'"attempt" must be a whole number'),
    ("baseModel", "tiny@v1", r'"baseModel" must be an object with name, version and path'),
    ("baseModel", {"name": "tiny", "version": "v1"}, r'"baseModel.path" must be a non-empty string, found None'),
    ("outputDir", 3, r'"outputDir" must be a non-empty string, found 3'),
])
def test_malformed_fields_are_named(job_file, field, value, message):
    path = job_file(**{field: value})
    with pytest.raises(HoneJobError, match=rf"^{path}: {message}"):
        hone_job.load()


def test_kind_check(job_file):
    path = job_file(kind="eval")
    assert hone_job.load(kind="eval").kind == "eval"
    with pytest.raises(HoneJobError, match=rf"{path}: this handler runs run jobs, but the job's kind is 'eval'"):
        hone_job.load(kind="run")


def test_unknown_input_lists_the_inputs(job_file):
    path = job_file()
    with pytest.raises(HoneJobError, match=rf'{path}: no input "model" in this run \(inputs: baseModel, trainDataset\)'):
        hone_job.load().input("model")


def test_relative_output_dir_is_beside_job_file(job_file, tmp_path):
    job_file(outputDir="out")
    assert hone_job.load().output_dir == str(tmp_path / "out")


# ------------------------------------------------------------------ adapters and their base


def test_eval_of_a_run_output_gets_the_runs_base_from_top_level_base_model(job_file, tmp_path):
    job_file(kind="eval", baseModel={"name": "tiny-gpt", "version": "v1", "path": "/m/base", "sha256": "11" * 32},
             trainDataset=None,
             model={"name": "lora-r8", "version": "draft-0", "path": "/m/adapter", "fromRun": "support/lora-r8",
                    "sha256": "22" * 32},
             dataset={"name": "docs-test", "version": "v1", "path": "/d/test.jsonl", "sha256": "33" * 32})
    model = hone_job.load().input("model")
    assert model.from_run == "support/lora-r8" and model.digest == "22" * 32
    assert model.base is not None and (model.base.ref, model.base.path, model.base.digest) == ("tiny-gpt@v1", "/m/base", "11" * 32)


def test_published_adapter_carries_its_base_nested(job_file):
    job_file(kind="eval", baseModel=None, trainDataset=None,
             model={"name": "bot", "version": "v2", "path": "/m/bot", "digest": "44" * 32,
                    "base": {"name": "tiny-gpt", "version": "v1", "path": "/m/base", "digest": "55" * 32}})
    model = hone_job.load().input("model")
    assert model.digest == "44" * 32  # "digest" read where "sha256" is absent
    assert (model.base.ref, model.base.digest) == ("tiny-gpt@v1", "55" * 32)


def test_a_full_model_has_no_base(job_file):
    job_file(kind="eval", baseModel=None, trainDataset=None,
             model={"name": "tiny-gpt", "version": "v1", "path": "/m/base", "sha256": "11" * 32})
    assert hone_job.load().input("model").base is None


def test_input_is_dir(job_file, tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "train.txt").write_text("x")
    job_file()
    job = hone_job.load()
    assert job.input("baseModel").is_dir and not job.input("trainDataset").is_dir


# ------------------------------------------------------------------ params


def test_param_types(job_file):
    job_file(params={"lr": 3, "epochs": 2.0, "name": "x", "flag": True, "bad": 2.5, "none": None})
    job = hone_job.load()
    assert job.param("lr", 0.1, float) == 3.0 and isinstance(job.param("lr", 0.1, float), float)
    assert job.param("epochs", 1, int) == 2 and isinstance(job.param("epochs", 1, int), int)
    assert job.param("name", "y", str) == "x" and job.param("flag", False, bool) is True
    assert job.param("absent", 7, int) == 7 and job.param("none", 7, int) == 7
    assert job.param("lr") == 3


@pytest.mark.parametrize("name,kind,message", [
    ("bad", int, r"params.bad must be a whole number, found 2.5"),
    ("flag", int, r"params.flag must be a whole number, found True"),
    ("name", float, r"params.name must be a number, found 'x'"),
    ("lr", bool, r"params.lr must be true or false, found 3"),
    ("lr", str, r"params.lr must be a string, found 3"),
])
def test_param_type_errors_name_the_file_and_param(job_file, name, kind, message):
    path = job_file(params={"bad": 2.5, "flag": True, "name": "x", "lr": 3})
    with pytest.raises(HoneJobError, match=rf"^{path}: {message}$"):
        hone_job.load().param(name, None, kind)


# ------------------------------------------------------------------ checkpoints


def test_checkpoint_dir_from_job_json(job_file, tmp_path):
    job_file(checkpointDir=str(tmp_path / "ckpt"))
    job = hone_job.load()
    assert job.checkpoint_dir == str(tmp_path / "ckpt") and os.path.isdir(tmp_path / "ckpt")


def test_checkpoint_dir_fallback_is_beside_job_json_outside_output_dir(job_file, tmp_path):
    job_file()
    job = hone_job.load()
    assert job.checkpoint_dir == str(tmp_path / "checkpoints")
    assert not job.checkpoint_dir.startswith(job.output_dir + os.sep)


def test_latest_checkpoint(job_file, tmp_path):
    job_file(checkpointDir=str(tmp_path / "ckpt"))
    job = hone_job.load()
    assert job.latest_checkpoint() is None
    for step in (5, 40, 10):
        (tmp_path / "ckpt" / f"checkpoint-{step}").mkdir(parents=True)
    (tmp_path / "ckpt" / "checkpoint-99").write_text("a file, not a checkpoint")
    (tmp_path / "ckpt" / "checkpoint-x").mkdir()
    assert job.latest_checkpoint() == str(tmp_path / "ckpt" / "checkpoint-40")


# ------------------------------------------------------------------ metrics.jsonl


def test_log_appends_lines_readable_at_once(job_file, tmp_path):
    job_file()
    job = hone_job.load()
    job.log(step=1, loss=2.5, lr=0.001)
    # flushed: another process (hone, a tail) reads the line before the handler ends
    assert lines(tmp_path / "out" / "metrics.jsonl") == [{"step": 1, "loss": 2.5, "lr": 0.001}]
    job.log(step=2, loss=2.25)
    job.log(note="no step")
    assert lines(tmp_path / "out" / "metrics.jsonl")[1:] == [{"step": 2, "loss": 2.25}, {"note": "no step"}]


def test_log_nan_and_inf_become_null_with_a_warning(job_file, tmp_path):
    job_file()
    job = hone_job.load()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        job.log(step=3, loss=float("nan"), grad_norm=float("inf"), lr=0.1)
    assert [str(w.message).split("/out/")[1] for w in seen] == [
        "metrics.jsonl: loss is nan, written as null (JSON has no NaN or Infinity)",
        "metrics.jsonl: grad_norm is inf, written as null (JSON has no NaN or Infinity)"]
    assert all(w.category is NonFiniteWarning for w in seen)
    assert lines(tmp_path / "out" / "metrics.jsonl") == [{"step": 3, "loss": None, "grad_norm": None, "lr": 0.1}]


class Scalar:
    """Stands for a numpy or torch scalar: a number through .item()."""

    def __init__(self, v):
        self.v = v

    def item(self):
        return self.v


def test_log_takes_scalars_with_item(job_file, tmp_path):
    job_file()
    hone_job.load().log(step=Scalar(4), loss=Scalar(1.5))
    assert lines(tmp_path / "out" / "metrics.jsonl") == [{"step": 4, "loss": 1.5}]


@pytest.mark.parametrize("step", ["7", True, [1]])
def test_log_step_must_be_a_number(job_file, step):
    job_file()
    with pytest.raises(HoneJobError, match=r"metrics.jsonl: step must be a number"):
        hone_job.load().log(step=step, loss=1.0)


def test_log_rejects_values_json_cannot_hold(job_file, tmp_path):
    job_file()
    with pytest.raises(HoneJobError, match=r"metrics.jsonl: loss is a object .*not a number, string, boolean, list or mapping"):
        hone_job.load().log(step=1, loss=object())
    assert not (tmp_path / "out" / "metrics.jsonl").exists() or lines(tmp_path / "out" / "metrics.jsonl") == []


# ------------------------------------------------------------------ summary.json


def test_flat_summary_is_what_hone_reads_today(job_file, tmp_path):
    job_file()
    hone_job.load().summary({"val_loss": 1.25, "accuracy": 0.5})
    assert strict(tmp_path / "out" / "summary.json") == {"val_loss": 1.25, "accuracy": 0.5}


def test_summary_with_meta(job_file, tmp_path):
    job_file()
    hone_job.load().summary({"val_loss": 1.25, "samples": 200, "perplexity": 3.5},
                            meta={"val_loss": {"direction": "min"}, "samples": {"kind": "count"},
                                  "perplexity": {"direction": "min", "kind": "metric", "unit": "nats"}})
    doc = strict(tmp_path / "out" / "summary.json")
    # the metrics stay flat at the top: gates (metrics.val_loss) and views read them as before
    assert {k: v for k, v in doc.items() if k != "_meta"} == {"val_loss": 1.25, "samples": 200, "perplexity": 3.5}
    assert doc["_meta"] == {"val_loss": {"kind": "metric", "direction": "min"}, "samples": {"kind": "count"},
                            "perplexity": {"kind": "metric", "direction": "min", "unit": "nats"}}
    assert hone_job.read_summary(str(tmp_path / "out" / "summary.json")) == (
        {"val_loss": 1.25, "samples": 200, "perplexity": 3.5}, doc["_meta"])


@pytest.mark.parametrize("metrics,meta,message", [
    ({"a": 1}, {"b": {"kind": "count"}}, r'_meta names "b", which is not a metric of this summary \(metrics: a\)'),
    ({"a": 1}, {"a": {"direction": "lower"}}, r"_meta.a.direction must be min or max, found 'lower'"),
    ({"a": 1}, {"a": {"kind": "counter"}}, r"_meta.a.kind must be one of metric, count, info, found 'counter'"),
    ({"a": 1}, {"a": {"kind": "count", "direction": "max"}}, r"_meta.a: a count has no direction"),
    ({"a": 1}, {"a": {"dir": "min"}}, r'_meta.a: unknown field "dir" \(fields: direction, kind, unit\)'),
    ({"a": 1}, {"a": "min"}, r"_meta.a must be a mapping"),
    ({"_meta": 1}, None, r'metric "_meta": names starting with "_" are reserved for hone'),
    ([1], None, r"the summary's metrics must be a mapping, found list"),
])
def test_summary_errors(job_file, tmp_path, metrics, meta, message):
    job_file()
    with pytest.raises(HoneJobError, match=rf"{tmp_path}/out/summary.json: {message}"):
        hone_job.load().summary(metrics, meta)
    assert not (tmp_path / "out" / "summary.json").exists()


def test_summary_nan_is_null_never_invalid_json(job_file, tmp_path):
    job_file()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        hone_job.load().summary({"val_loss": float("nan"), "acc": 0.5, "nested": {"x": float("-inf")}})
    assert [str(w.message).split(": ")[1] for w in seen] == ["val_loss is nan, written as null (JSON has no NaN or Infinity)",
                                                             "nested.x is -inf, written as null (JSON has no NaN or Infinity)"]
    assert strict(tmp_path / "out" / "summary.json") == {"val_loss": None, "acc": 0.5, "nested": {"x": None}}


def test_update_summary_keeps_what_it_does_not_replace(job_file, tmp_path):
    job_file()
    job = hone_job.load()
    job.summary({"train_loss": 2.0, "steps": 20}, {"train_loss": {"direction": "min"}, "steps": {"kind": "count"}})
    job.update_summary({"val_loss": 1.5, "steps": 30}, {"val_loss": {"direction": "min"}})
    assert strict(tmp_path / "out" / "summary.json") == {
        "train_loss": 2.0, "steps": 30, "val_loss": 1.5,
        "_meta": {"train_loss": {"kind": "metric", "direction": "min"}, "steps": {"kind": "count"},
                  "val_loss": {"kind": "metric", "direction": "min"}}}


def test_update_summary_reads_a_flat_summary_written_by_hand(job_file, tmp_path):
    job_file()
    (tmp_path / "out" / "summary.json").write_text('{"acc": 0.75}')
    hone_job.load().update_summary({"loss": 0.5})
    assert strict(tmp_path / "out" / "summary.json") == {"acc": 0.75, "loss": 0.5}


def test_read_summary_errors_name_the_file(tmp_path):
    p = tmp_path / "summary.json"
    p.write_text("[1]")
    with pytest.raises(HoneJobError, match=rf"{p}: summary.json must be a JSON object, found list"):
        hone_job.read_summary(str(p))
    p.write_text('{"a": 1, "_meta": 3}')
    with pytest.raises(HoneJobError, match=rf'{p}: "_meta" must be an object, found int'):
        hone_job.read_summary(str(p))
    p.write_text('{"a": ')
    with pytest.raises(HoneJobError, match=rf"{p}:1:7: summary.json is not valid JSON"):
        hone_job.read_summary(str(p))


def test_summary_replaces_atomically(job_file, tmp_path):
    job_file()
    job = hone_job.load()
    job.summary({"a": 1})
    job.summary({"b": 2})
    assert strict(tmp_path / "out" / "summary.json") == {"b": 2}
    assert sorted(os.listdir(tmp_path / "out")) == ["summary.json"]  # no temporary file left behind


# ------------------------------------------------------------------ results.jsonl


def test_results(job_file, tmp_path):
    job_file(kind="eval")
    n = hone_job.load().results([{"id": "q1", "correct": True, "nll": 1.5}, {"id": 2, "correct": False, "nll": 2.0}])
    assert n == 2
    assert lines(tmp_path / "out" / "results.jsonl") == [
        {"id": "q1", "correct": True, "nll": 1.5}, {"id": 2, "correct": False, "nll": 2.0}]


def test_results_nan_is_null(job_file, tmp_path):
    job_file(kind="eval")
    with pytest.warns(NonFiniteWarning, match=r"results.jsonl: row 0.nll is inf"):
        hone_job.load().results([{"id": "a", "nll": float("inf")}])
    assert lines(tmp_path / "out" / "results.jsonl") == [{"id": "a", "nll": None}]


@pytest.mark.parametrize("rows,message", [
    ([{"id": "a"}, {"x": 1}], r'row 1 has no "id"'),
    ([{"id": "a"}, {"id": "a"}], r"rows 0 and 1 have the same id 'a'"),
    ([{"id": True}], r'row 0: "id" must be a string or a whole number, found True'),
    ([["id", "a"]], r"row 0 is a list, not a mapping"),
])
def test_results_errors_write_nothing(job_file, tmp_path, rows, message):
    job_file(kind="eval")
    (tmp_path / "out" / "results.jsonl").write_text('{"id": "old"}\n')
    with pytest.raises(HoneJobError, match=rf"{tmp_path}/out/results.jsonl: {message}"):
        hone_job.load().results(rows)
    assert lines(tmp_path / "out" / "results.jsonl") == [{"id": "old"}]


def test_warnings_do_not_stop_the_handler(job_file, tmp_path):
    job_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteWarning)
        with pytest.raises(NonFiniteWarning):
            hone_job.load().log(step=1, loss=float("nan"))
    # a handler may turn the warning into an error; by default it is printed once and the value is null
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        hone_job.load().log(step=2, loss=float("nan"))
    assert len(seen) == 1 and json.loads((tmp_path / "out" / "metrics.jsonl").read_text().splitlines()[-1]) == {"step": 2, "loss": None}
