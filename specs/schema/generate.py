#!/usr/bin/env python3
"""Writes the JSON Schemas (draft 2020-12) of every hone file kind into this folder.

The schemas mirror the loader (Sources/HoneLoading/Decoders.swift, StatusCodec.swift): the same
fields, types, defaults and enums, `additionalProperties: false` everywhere the loader reports unknown
keys, and literal secrets rejected in every mapping. Checks that need more than one file (references
exist, pools are defined, one default view per scope) stay with `hone validate`.

    python3 specs/schema/generate.py          # rewrite the *.json files
    python3 specs/schema/generate.py --check  # exit 1 when a committed file is stale
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DRAFT = "https://json-schema.org/draft/2020-12/schema"

NAME = "^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
NAME_BODY = NAME[1:-1]
REF = "^" + NAME_BODY + "@" + NAME_BODY + "$"

# Decoders.swift `secretKeys`, matched case-insensitively (JSON Schema regexes have no (?i)).
SECRET_KEYS = ["password", "passwd", "token", "secret", "apikey", "api_key", "api-key",
               "accesstoken", "access_token", "secretkey", "privatekey"]


def ci(word):
    return "".join("[%s%s]" % (c.lower(), c.upper()) if c.isalpha() else ("\\-" if c == "-" else c) for c in word)


SECRET = "^(" + "|".join(ci(w) for w in SECRET_KEYS) + ")$"
SECRET_RULE = {SECRET: {
    "type": "null",
    "description": "Literal secrets are rejected: secrets never go into git. Name an environment "
                   "variable instead (for debug mode: `passwordEnv: HONE_DEBUG_PASSWORD`).",
}}

PHASES = ["Pending", "Running", "Succeeded", "Failed", "Cancelled"]
COLUMNS = ["name", "group", "model", "dataset", "runtime", "handler", "pool", "phase", "owner",
           "createdAt", "finishedAt", "duration", "attempt", "cost"]
NUMERIC_COLUMNS = ["duration", "cost", "attempt"]
TEMPORAL_COLUMNS = ["createdAt", "finishedAt"]

# Swift `Double(...)` text, as far as it matters for hand-written numbers.
NUM = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2}))?"


def t(*types, **kw):
    d = {"type": list(types) if len(types) > 1 else types[0]}
    d.update(kw)
    return d


def string(desc, required=False, **kw):
    """A string the loader reads strictly: `1`, `yes`, `0123` must be quoted."""
    return t("string", description=desc, **kw) if required else t("string", "null", description=desc, **kw)


def text(desc, **kw):
    """Free text (descriptions, owners, timestamps): any scalar is taken as its text."""
    return t("string", "number", "boolean", "null", description=desc, **kw)


def name(desc, required=False, **kw):
    d = string(desc, required, **kw)
    d["pattern"] = NAME
    return d


def ref(desc, required=False, **kw):
    d = string(desc, required, **kw)
    d["pattern"] = REF
    return d


def integer(desc, minimum=None, **kw):
    d = t("integer", "null", description=desc, **kw)
    if minimum is not None:
        d["minimum"] = minimum
    return d


def number(desc, minimum=None, **kw):
    d = t("number", "null", description=desc, **kw)
    if minimum is not None:
        d["minimum"] = minimum
    return d


def boolean(desc, **kw):
    return t("boolean", "null", description=desc, **kw)


def strings(desc, **kw):
    return t("array", "null", description=desc, items=t("string"), **kw)


def obj(props, required=(), nullable=False, desc=None, **kw):
    d = {"type": ["object", "null"] if nullable else "object"}
    if desc:
        d["description"] = desc
    d["properties"] = props
    if required:
        d["required"] = list(required)
    d["patternProperties"] = SECRET_RULE
    d["additionalProperties"] = False
    d.update(kw)
    return d


JSON_DEF = {
    "description": "Any YAML value (read with YAML 1.1 types). Literal secrets are rejected at any depth.",
    "patternProperties": SECRET_RULE,
    "additionalProperties": {"$ref": "#/$defs/json"},
    "items": {"$ref": "#/$defs/json"},
}


def json_map(desc):
    return {"type": ["object", "null"], "description": desc, "patternProperties": SECRET_RULE,
            "additionalProperties": {"$ref": "#/$defs/json"}}


def header(kind):
    return {
        "apiVersion": {"const": "hone/v1", "description": "Optional; hone/v1 is the only version."},
        "kind": {"const": kind, "description": "Required; must match the file's place in the layout."},
    }


def schema(title, desc, props, required, defs=None, **kw):
    s = {"$schema": DRAFT, "title": title, "description": desc}
    s.update(obj(props, ["kind"] + list(required), **kw))
    if defs:
        s["$defs"] = defs
    return s


# --------------------------------------------------------------------------------------------------
# hone.yaml

SLURM_ONLY = "Slurm only (a warning on local pools)."

pool = obj({
    "executor": t("string", enum=["local", "slurm"], default="local",
                  description="Where jobs run: local (processes on the reconciling machine) or slurm (sbatch). "
                              "kubernetes is planned, not available."),
    "maxParallel": integer("Jobs of this pool running at once. Default 2 (local) or 4 (slurm).", minimum=1),
    "costPerHour": number("Cost of one job-hour, for estimates in plans and statuses.", minimum=0, default=0),
    "maxHours": t("number", "null", exclusiveMinimum=0,
                  description="Upper bound of a job's duration in hours (Slurm --time; cost bound). No default."),
    "partition": string("sbatch --partition. " + SLURM_ONLY),
    "gres": string("sbatch --gres, e.g. \"gpu:1\". " + SLURM_ONLY),
    "cpusPerTask": integer("sbatch --cpus-per-task. " + SLURM_ONLY, minimum=1),
    "mem": string("sbatch --mem, e.g. \"16G\". " + SLURM_ONLY),
    "account": string("sbatch --account. " + SLURM_ONLY),
    "qos": string("sbatch --qos. " + SLURM_ONLY),
    "constraint": string("sbatch --constraint. " + SLURM_ONLY),
    "extraArgs": strings("More sbatch arguments, one per item. " + SLURM_ONLY),
    "workdir": string("A directory every Slurm node can read and write. Required for slurm pools."),
}, desc="A resource pool.",
    allOf=[{"if": {"required": ["executor"], "properties": {"executor": {"const": "slurm"}}},
            "then": {"required": ["workdir"], "properties": {"workdir": {"type": "string"}},
                     "description": "a slurm pool needs \"workdir\": a directory every Slurm node can read and write"}}])

project = schema(
    "hone Project (hone.yaml)",
    "The project: resource pools, the artifact store and defaults.",
    {**header("Project"),
     "name": string("The project's name.", required=True),
     "owner": text("Default owner when a spec names none."),
     "store": string("Artifact store: a path relative to the repository root, an absolute path, a file:// URI, or a remote store (s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix, sftp://[user@]host[:port]/path, rclone:REMOTE:path) with no credential in it.", default=".hone/store"),
     "publishBranch": string("The only branch whose reconcile publishes models; elsewhere publishing waits for the merge.",
                             default="main"),
     "pools": {"type": "object", "minProperties": 1,
               "description": "Resource pools by name (at least one). `local` is the default pool when present.",
               "propertyNames": {"pattern": NAME},
               "patternProperties": SECRET_RULE,
               "additionalProperties": {"$ref": "#/$defs/pool"}},
     "defaults": obj({"pool": t("string", "number", "boolean",
                                description="Pool used when a run or eval names none. Must be one of `pools`.")},
                     desc="Project-wide defaults."),
     "gc": obj({"keepFinishedJobs": integer("Finished jobs' folders each reconcile keeps, newest first (older ones are removed after collecting).",
                                            minimum=0, default=20)},
               desc="Cleaning of .hone/ by reconcile (hone gc does the rest)."),
     },
    ["name", "pools"],
    defs={"pool": pool})

# --------------------------------------------------------------------------------------------------
# Versions

def version_props(kind):
    p = {**header(kind), "description": text("Free text.")}
    if kind == "RuntimeVersion":
        p.update({
            "python": string("Interpreter used to make the environment.", default="python3"),
            "requirements": strings("pip requirement lines, installed once into an environment cached by digest.", default=[]),
            "env": {"type": ["object", "null"], "description": "Environment variables for jobs (values are taken as text).",
                    "default": {}, "patternProperties": SECRET_RULE,
                    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "Variable names only (A-B is not one)."},
                    "additionalProperties": t("string", "number", "boolean", "null")},
            "systemSitePackages": boolean("Create the venv with --system-site-packages.", default=False),
        })
    else:
        p.update({
            "uri": string("Where the artifact (a file or a folder) is: a repository-relative path, an absolute path, a file:// URI, or store://… (in the artifact store).",
                          required=True),
            "sha256": t("string", pattern="^[0-9a-f]{64}$",
                        description="sha256 of the artifact, 64 lowercase hex digits (`sha256sum FILE`; a folder: the sha256 of its sorted sha256sum manifest, see specs/versions.md). Verified before any job reads it."),
        })
        if kind == "ModelVersion":
            p.update({
                "publishedFrom": string("Written by hone: the run this version was published from (`group/run`)."),
                "publishedAt": text("Written by hone: when it was published (ISO-8601 UTC)."),
                "lineage": {"$ref": "#/$defs/json", "description": "Written by hone: base model, datasets, runtime, params of the run."},
                "metrics": json_map("Written by hone: the run's summary metrics."),
                "base": {"type": "object", "additionalProperties": False, "required": ["model"],
                         "description": "An adapter (PEFT LoRA): the base model it is applied to; an eval of this version gets it as baseModel in job.json.",
                         "properties": {"model": t("string", pattern="^[^@]+@[^@]+$", description="The base model version, name@version."),
                                        "sha256": t("string", pattern="^[0-9a-f]{64}$", description="The base's sha256 when the adapter was trained.")}},
                "size": t("integer", description="Written by hone: the model's total size in bytes."),
                "files": {"type": "array", "description": "Written by hone: the model's files as stored (checkpoints are never among them).",
                          "items": {"type": "object", "additionalProperties": False, "required": ["path", "sha256", "size"],
                                    "properties": {"path": t("string", description="Path inside the model (a file's own name for a one-file model)."),
                                                   "sha256": t("string", pattern="^[0-9a-f]{64}$", description="The file's sha256."),
                                                   "size": t("integer", description="Bytes.")}}},
            })
    return p


def version_schema(kind, folder, what):
    required = [] if kind == "RuntimeVersion" else ["uri", "sha256"]
    return schema("hone %s (%s/<name>/<version>.yaml)" % (kind, folder),
                  "An immutable %s version. Identity by path: %s/<name>/<version>.yaml is <name>@<version>." % (what, folder),
                  version_props(kind), required, defs={"json": JSON_DEF} if kind == "ModelVersion" else None)

# --------------------------------------------------------------------------------------------------
# Group, Run, Eval, View

group = schema("hone Group (groups/<group>/group.yaml)", "A group of runs, evals and views.",
               {**header("Group"), "description": text("Free text shown in listings.")}, [])

COMMON = {
    "description": text("Free text."),
    "pool": name("Pool from hone.yaml. Default: hone.yaml `defaults.pool`, else `local`, else the first pool by name."),
    "runtime": ref("Runtime version, name@version (runtimes/<name>/<version>.yaml). Optional."),
    "handler": string("The command to run, in the runtime's environment, from a snapshot of the repository.", required=True),
    "params": json_map("Free-form parameters, passed to the handler in job.json."),
    "owner": text("Owner. Default: the author of the commit that last changed this file."),
    "rerun": integer("Raise it to run again with the same spec.", minimum=0, default=0),
    "onChange": t("string", enum=["cancel", "wait"], default="cancel",
                  description="cancel: a spec change supersedes a running attempt; wait: let it finish first."),
    "code": t("array", "null", items=t("string", pattern=r"^(?!/)(?!status(/|$))(?!\.hone(/|$))(?!\.git(/|$)).+$"),
              description="Repository paths (files or folders) whose committed content the object depends on: a "
                          "committed change reruns it. Default: the folder of the script the handler names "
                          "(the script itself at the top of the repository); [] for none."),
}

run = schema("hone Run (groups/<group>/runs/<run>.yaml)", "A fine-tune run. Identity by path: <group>/<run>.", {
    **header("Run"),
    "description": COMMON["description"],
    "pool": COMMON["pool"],
    "baseModel": ref("Base model version, name@version (models/<name>/<version>.yaml).", required=True),
    "trainDataset": ref("Training dataset version, name@version.", required=True),
    "validationDataset": ref("Validation dataset version, name@version. Optional."),
    "runtime": COMMON["runtime"],
    "handler": COMMON["handler"],
    "params": COMMON["params"],
    "owner": COMMON["owner"],
    "rerun": COMMON["rerun"],
    "onChange": COMMON["onChange"],
    "code": COMMON["code"],
    "publish": obj({
        "model": name("Registry model to publish into.", required=True),
        "as": t("string", enum=["new", "version"], default="new",
                description="new: a new model (error if it exists); version: a new version of an existing model."),
    }, required=["model"], nullable=True, desc="Publish the run's model once it has succeeded."),
}, ["baseModel", "trainDataset", "handler"], defs={"json": JSON_DEF})

GATE = r"^\s*(>=|<=|==|>|<)\s*(baseline(\s*[+-]\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)?|" + NUM + r")\s*$"
DURATION = r"^(never|off|\+?[0-9]+[smhd]?)$"

eval_ = schema("hone Eval (groups/<group>/evals/<eval>.yaml, evaluations/<eval>.yaml)",
               "An evaluation of one model on one dataset. Exactly one of `model` and `fromRun`.", {
    **header("Eval"),
    "description": COMMON["description"],
    "pool": COMMON["pool"],
    "model": ref("Registry model version to evaluate, name@version. Exactly one of model and fromRun."),
    "fromRun": name("A run of this group whose draft model is evaluated (the eval waits for it to succeed). "
                    "Not available in evaluations/."),
    "handler": COMMON["handler"],
    "dataset": ref("Evaluation dataset version, name@version.", required=True),
    "runtime": COMMON["runtime"],
    "params": COMMON["params"],
    "autoRelease": {"anyOf": [t("integer", minimum=0), t("string", pattern=DURATION), {"const": False}, t("null")],
                    "default": "3600s",
                    "description": "Release the job's resources after this long: 90s, 15m, 2h, 1d or 3600 (seconds). "
                                   "0, never or off: never. Default 3600s."},
    "debug": obj({
        "enabled": boolean("Keep the job's environment for interactive debugging.", default=False),
        "passwordEnv": t("string", "null", pattern="^[A-Za-z_][A-Za-z0-9_]*$", default="HONE_DEBUG_PASSWORD",
                         description="Environment variable holding the debug password at reconcile time (never in git)."),
    }, nullable=True, desc="Debug mode (off unless enabled)."),
    "rerun": COMMON["rerun"],
    "onChange": COMMON["onChange"],
    "owner": COMMON["owner"],
    "gates": {"type": ["object", "null"],
              "description": "Checked by `hone check`: metrics.<key> → comparison, e.g. \">= baseline - 0.01\", \"<= 12\".",
              "propertyNames": {"pattern": r"^metrics\..+"},
              "patternProperties": SECRET_RULE,
              "additionalProperties": t("string", pattern=GATE)},
    "baseline": name("An eval in the same scope this one is compared with (gates using `baseline`)."),
    "syncedFrom": string("Written by `hone sync`: where this copy came from (support/e or evaluations/e)."),
    "code": COMMON["code"],
}, ["dataset", "handler"], defs={"json": JSON_DEF},
    allOf=[
        {"anyOf": [{"required": ["model"]}, {"required": ["fromRun"]}],
         "description": "an eval needs one of \"model\" (a registry version, name@version) or \"fromRun\" (a run of this group)"},
        {"not": {"required": ["model", "fromRun"],
                 "properties": {"model": {"type": "string"}, "fromRun": {"type": "string"}}},
         "description": "an eval takes exactly one of \"model\" and \"fromRun\", not both"},
        {"if": {"properties": {"gates": {"additionalProperties": {"not": {"pattern": "baseline"}}}}},
         "else": {"required": ["baseline"], "properties": {"baseline": {"type": "string"}},
                  "description": "a gate compares with the baseline, but this eval names no \"baseline\""}},
    ])

RELEASE = {"anyOf": [t("integer", minimum=0), t("string", pattern=DURATION), {"const": False}, t("null")]}

playground = schema("hone Playground (groups/<group>/playgrounds/<playground>.yaml)",
                    "A model served over HTTP (OpenAI's chat shape) for people to try, until released. "
                    "Exactly one of `model` and `fromRun` (specs/playground.md).", {
    **header("Playground"),
    "description": COMMON["description"],
    "pool": COMMON["pool"],
    "model": ref("Registry model version to serve, name@version. Exactly one of model and fromRun."),
    "fromRun": name("A run of this group whose draft model is served (the playground waits for it to succeed)."),
    "runtime": COMMON["runtime"],
    "handler": COMMON["handler"],
    "params": COMMON["params"],
    "autoRelease": {**RELEASE, "default": "3600s",
                    "description": "Stop the server this long after it started: 90s, 15m, 2h, 1d or 3600 (seconds). "
                                   "0, never or off: never. Default 3600s."},
    "idleRelease": {**RELEASE, "description": "Stop the server after this long without a chat request. Default: no idle limit."},
    "apiKeyEnv": t("string", "null", pattern="^[A-Za-z_][A-Za-z0-9_]*$",
                   description="Environment variable (where hone runs) holding the bearer key every request needs; never the key."),
    "owner": COMMON["owner"],
    "rerun": COMMON["rerun"],
    "code": COMMON["code"],
}, ["handler"], defs={"json": JSON_DEF},
    allOf=[
        {"anyOf": [{"required": ["model"]}, {"required": ["fromRun"]}],
         "description": "a playground needs one of \"model\" (a registry version, name@version) or \"fromRun\" (a run of this group, whose draft it serves)"},
        {"not": {"required": ["model", "fromRun"],
                 "properties": {"model": {"type": "string"}, "fromRun": {"type": "string"}}},
         "description": "a playground takes exactly one of \"model\" and \"fromRun\", not both"},
    ])

# View filter values, per column (FilterParser in Decoders.swift).
EQ_OR_NE = r"^\s*(!=\s*\S|=\s*\S|!(?!=)|[^\s<>!=]).*$"
ORDERED_NUM = r"^\s*(>=|<=|>|<)\s*" + NUM + r"\s*$"
ORDERED_DATE = r"^\s*(>=|<=|>|<)\s*" + DATE + r"\s*$"
# A view filters on the phase listings show: the recorded ones, and Queued (Pending, waiting for a pool slot).
PHASE_VALUE = r"^\s*(!=|=)?\s*(" + "|".join(PHASES + ["Queued"]) + r"|.*\*.*)\s*$"

filter_value_plain = {"anyOf": [t("number"), t("boolean"), t("string", pattern=EQ_OR_NE)],
                      "description": "a value (equality; `*` and `?` are globs) or `!=value`; no ordered comparison on this column"}


def ordered(pattern, what):
    return {"anyOf": [t("number"), t("boolean"), t("string", pattern=EQ_OR_NE), t("string", pattern=pattern)],
            "description": "a value (equality; `*`, `?` globs), `!=value`, or `>=`, `<=`, `>`, `<` followed by " + what}


# Run views (for: runs) add the run columns and params.<key> (ViewSpec.runColumns).
RUN_ONLY_COLUMNS = ["baseModel", "trainDataset", "validationDataset"]
view_filter_props = {c: filter_value_plain for c in COLUMNS + RUN_ONLY_COLUMNS}
for c in NUMERIC_COLUMNS:
    view_filter_props[c] = ordered(ORDERED_NUM, "a number")
for c in TEMPORAL_COLUMNS:
    view_filter_props[c] = ordered(ORDERED_DATE, "a date like 2026-01-31 or 2026-01-31T12:00:00Z")
view_filter_props["phase"] = t("string", pattern=PHASE_VALUE, description="a phase (Pending, Running, Succeeded, Failed, Cancelled), `!=` a phase, or a glob with `*`")

COLUMN = {"anyOf": [t("string", enum=COLUMNS + RUN_ONLY_COLUMNS), t("string", pattern=r"^metrics\..+"), t("string", pattern=r"^params\..+")],
          "description": "A built-in column or metrics.<key>; in run views (for: runs) also baseModel, trainDataset, validationDataset and params.<key>."}

view = schema("hone View (groups/<group>/views/<view>.yaml, evaluations/views/<view>.yaml)",
              "A saved list of evals (or, with for: runs, of a group's runs): columns, filter and sort.", {
    **header("View"),
    "for": {"enum": ["evals", "runs"], "default": "evals",
            "description": "What the view lists: the scope's evals, or a group's runs (groups/<group>/views/ only)."},
    "columns": t("array", "null", items={"$ref": "#/$defs/column"},
                 description="Columns in the order shown. Default: every column."),
    "pinned": t("array", "null", items={"$ref": "#/$defs/column"}, default=[],
                description="Columns kept leftmost; each must be among `columns` when columns are given."),
    "filter": {"type": ["object", "null"],
               "description": "column → value. A plain value is equality; `!=v`, `>=n`, `<=n`, `>n`, `<n`; `*` and `?` are globs. "
                              "Ordered comparisons apply to metrics.<key>, duration, cost, attempt (numbers) and createdAt, finishedAt (dates).",
               "properties": view_filter_props,
               "patternProperties": {r"^metrics\..+": ordered(ORDERED_NUM, "a number"), r"^params\..+": ordered(ORDERED_NUM, "a number"), **SECRET_RULE},
               "additionalProperties": False},
    "sort": obj({
        "by": {"anyOf": COLUMN["anyOf"], "default": "createdAt", "description": "Sort column."},
        "order": t("string", enum=["asc", "desc"], default="desc", description="asc or desc."),
    }, nullable=True, desc="Sort. Default: createdAt, desc."),
    "default": boolean("The scope's default view (at most one per group, and one in evaluations/).", default=False),
    "visible": boolean("Hidden views stay on disk but are not offered.", default=True),
}, [], defs={"column": COLUMN})

# --------------------------------------------------------------------------------------------------
# Status (written by hone)

def status_props(kind):
    p = {
        **header(kind),
        "object": {"description": "The object, as on the command line: support/lora-r8 or evaluations/e."},
        "id": string("Deterministic job id: from the object path, specDigest and attempt.", required=True),
        "phase": t("string", enum=PHASES, description="Pending, Running, Succeeded, Failed or Cancelled."),
        "attempt": integer("Attempt number.", minimum=0, default=0),
        "rerun": integer("The spec's `rerun:` this attempt was launched for.", minimum=0, default=0),
        "specDigest": string("sha256 of the spec in canonical form plus the digests of what it references.", required=True),
        "specCommit": string("The commit the attempt was launched from."),
        "createdAt": text("ISO-8601 UTC."),
        "startedAt": text("ISO-8601 UTC."),
        "finishedAt": text("ISO-8601 UTC."),
        "durationSeconds": number("Wall-clock seconds."),
        "owner": text("Owner."),
        "pool": string("Pool the job ran on."),
        "runtime": string("Runtime version used, name@version."),
        "dataset": string("Dataset version, name@version."),
        "handler": text("The handler command."),
        "params": json_map("The params the job got."),
        "cost": number("Estimated cost (duration × the pool's costPerHour)."),
        "metrics": json_map("Summary metrics (the handler's summary.json)."),
        "inputs": {"type": ["object", "null"], "description": "Digest of every version used, by path (models/tiny-char/v1 → sha256).",
                   "patternProperties": SECRET_RULE, "additionalProperties": t("string", "number", "boolean", "null")},
        "code": {"type": ["object", "null"],
                 "description": "The git blob id of every file of the object's code paths in specCommit (file → id); "
                                "absent in statuses recorded before hone recorded code.",
                 "patternProperties": SECRET_RULE, "additionalProperties": t("string")},
        "tasks": t("array", "null", items={"$ref": "#/$defs/task"}, description="The job's tasks."),
        "events": t("array", "null", items={"$ref": "#/$defs/event"}, description="What happened, oldest first."),
    }
    if kind == "PlaygroundStatus":
        del p["dataset"]
        p.update({
            "model": string("The model served, name@version (or the run's draft)."),
            "endpoint": string("Where the server listens: http://host:port."),
            "ready": boolean("Whether GET /v1/models answered.", default=False),
            "autoRelease": {"type": ["string", "integer", "null"], "description": "Written as 3600s or never."},
            "idleRelease": {"type": ["string", "integer", "null"], "description": "Written as 1800s; absent: no idle limit."},
            "releaseAt": text("When the server is stopped (ISO-8601 UTC)."),
            "lastRequestAt": text("The last chat request the server saw (ISO-8601 UTC), kept when idleRelease is set."),
        })
    elif kind == "RunStatus":
        p.update({
            "model": obj({
                "name": string("Model name."),
                "version": text("Version."),
                "uri": string("Where the weights are (in the store)."),
                "sha256": string("Digest of the weights."),
                "published": boolean("Published into the registry.", default=False),
            }, nullable=True, desc="The run's output model: a draft until published."),
            "baseModel": string("name@version."),
            "trainDataset": string("name@version."),
            "validationDataset": string("name@version."),
            "publishedAs": string("The published version's manifest (models/M/vN)."),
        })
    else:
        p.update({
            "model": string("The model evaluated, name@version (or the run's draft)."),
            "autoRelease": {"type": ["string", "integer", "null"], "description": "Written as 3600s or never."},
            "releaseAt": text("When the job's resources are released (ISO-8601 UTC)."),
            "debug": obj({
                "enabled": boolean("Debug mode on.", default=False),
                "workdir": string("Where the kept environment is."),
                "keptUntil": {"description": "When the kept environment goes away."},
            }, nullable=True, desc="Debug mode (never the password)."),
            "results": obj({
                "path": string("Repository path of results.jsonl."),
                "rows": integer("Rows in results.jsonl.", minimum=0),
            }, nullable=True, desc="Per-sample results."),
        })
    return p


task = obj({
    "name": string("Task name."),
    "phase": t("string", enum=PHASES, description="Phase.", default="Pending"),
    "executorId": text("The executor's id (pid, Slurm job id)."),
    "startedAt": text("ISO-8601 UTC."),
    "finishedAt": text("ISO-8601 UTC."),
    "exitCode": integer("Exit status."),
    "log": string("Repository path of the capped log."),
}, desc="A task of the job.")

event = obj({
    "at": text("ISO-8601 UTC."),
    "type": t("string", "null", enum=["Normal", "Warning", None], default="Normal", description="Normal or Warning."),
    "reason": string("CamelCase reason, e.g. Started, Succeeded, Failed, AutoReleased."),
    "message": text("What happened."),
    "task": string("The task it concerns."),
}, desc="An event.")


def status_schema(kind, where):
    return schema("hone %s (%s)" % (kind, where), "Recorded state, written by hone only.",
                  status_props(kind), ["id", "phase", "specDigest"],
                  defs={"json": JSON_DEF, "task": task, "event": event})


SCHEMAS = {
    "project.json": project,
    "model-version.json": version_schema("ModelVersion", "models", "model"),
    "dataset-version.json": version_schema("DatasetVersion", "datasets", "dataset"),
    "runtime-version.json": version_schema("RuntimeVersion", "runtimes", "runtime"),
    "group.json": group,
    "run.json": run,
    "eval.json": eval_,
    "view.json": view,
    "playground.json": playground,
    "run-status.json": status_schema("RunStatus", "status/groups/<group>/runs/<run>.yaml"),
    "eval-status.json": status_schema("EvalStatus", "status/groups/<group>/evals/<eval>.yaml, status/evaluations/<eval>.yaml"),
    "playground-status.json": status_schema("PlaygroundStatus", "status/groups/<group>/playgrounds/<playground>.yaml"),
}


def render(s):
    return json.dumps(s, indent=2, ensure_ascii=False) + "\n"


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for fname, s in SCHEMAS.items():
        path = os.path.join(HERE, fname)
        out = render(s)
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != out:
                        stale.append(fname)
            except FileNotFoundError:
                stale.append(fname)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(out)
    if check and stale:
        print("stale schemas (run python3 specs/schema/generate.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
