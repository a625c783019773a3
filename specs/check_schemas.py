#!/usr/bin/env python3
"""Validates every hone YAML file of one or more hone repositories against the JSON Schemas in
specs/schema/, choosing the schema by the file's path exactly like the loader does
(Sources/HoneLoading/Loader.swift, `Classifier.place`).

    python3 specs/check_schemas.py                 # every repository under examples/*/ (and specs/fixtures/*/)
    python3 specs/check_schemas.py path/to/repo …  # these repositories

Prints one line per file (`ok`, `FAIL` with the reasons, `warn` for files the loader would warn
about) and a closing line `N passed, M failed`. Exits 1 when any file failed (or nothing was found).

Files are read as YAML 1.1 like hone reads them, except that timestamps stay strings (hone has no
timestamp type). Checks that need more than one file (references, pools, one default view) are
`hone validate`'s.
"""
import difflib
import glob
import json
import os
import re
import sys

import yaml
from jsonschema import Draft202012Validator

SPECS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SPECS)
SCHEMAS = os.path.join(SPECS, "schema")

NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")
TOP_FOLDERS = ["models", "datasets", "runtimes", "groups", "evaluations", "status"]
VERSION_SCHEMAS = {"models": "model-version.json", "datasets": "dataset-version.json", "runtimes": "runtime-version.json"}
OBJECT_SCHEMAS = {"runs": "run.json", "evals": "eval.json", "views": "view.json", "playgrounds": "playground.json"}
STATUS_SCHEMAS = {"runs": "run-status.json", "evals": "eval-status.json", "playgrounds": "playground-status.json"}
SECRET_KEYS = {"password", "passwd", "token", "secret", "apikey", "api_key", "api-key",
               "accesstoken", "access_token", "secretkey", "privatekey"}
SECRET_HINT = ("secrets never go into git: name an environment variable instead "
               "(for debug mode: `passwordEnv: HONE_DEBUG_PASSWORD`) and set it where hone runs")


class HoneLoader(yaml.SafeLoader):
    """YAML 1.1 like hone (Sources/YAML/Node.swift), without timestamps; duplicate keys are errors."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, "duplicate key \"%s\" (first defined at line %d)" % (key, seen[key] + 1), key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


HoneLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
HoneLoader.add_constructor("tag:yaml.org,2002:map", HoneLoader.construct_mapping)


def classify(path):
    """('schema.json', None) | (None, 'warning') | ('error', message) | (None, None) for ignored files."""
    if path == "hone.yaml":
        return "project.json", None
    parts = path.split("/")
    is_yaml = path.endswith(".yaml")

    def stem(s):
        return s[:-5]

    def check(names, schema):
        for n in names:
            if not NAME.match(n):
                return "error", "\"%s\" is not a valid name: names and versions match [a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?" % n
        return schema, None

    unknown = (None, "file is not part of the hone layout and is ignored (see specs/layout.md)")
    top = parts[0]
    if top in VERSION_SCHEMAS:
        if len(parts) == 3 and is_yaml:
            return check([parts[1], stem(parts[2])], VERSION_SCHEMAS[top])
        return unknown if path.endswith((".yaml", ".yml")) else (None, None)
    if top == "groups":
        if len(parts) == 3 and parts[2] == "group.yaml":
            return check([parts[1]], "group.json")
        if len(parts) == 4 and is_yaml and parts[2] in OBJECT_SCHEMAS:
            return check([parts[1], stem(parts[3])], OBJECT_SCHEMAS[parts[2]])
        if path.endswith(".yml"):
            return None, "hone reads .yaml files only: rename it to %s.yaml" % path[:-4]
        return unknown
    if top == "evaluations":
        if len(parts) == 2 and is_yaml:
            return check([stem(parts[1])], "eval.json")
        if len(parts) == 3 and parts[1] == "views" and is_yaml:
            return check([stem(parts[2])], "view.json")
        return unknown
    if top == "status":
        if len(parts) == 5 and parts[1] == "groups" and is_yaml and parts[3] in STATUS_SCHEMAS:
            return STATUS_SCHEMAS[parts[3]], None
        if len(parts) == 3 and parts[1] == "evaluations" and is_yaml:
            return "eval-status.json", None
        return None, None  # logs, metrics.jsonl, results.jsonl
    return None, None


def list_files(root):
    """The loader's working-tree listing: hone.yaml and the layout's folders (hidden names skipped)."""
    out = []
    if os.path.isfile(os.path.join(root, "hone.yaml")):
        out.append("hone.yaml")

    def walk(d, prefix):
        for name in sorted(os.listdir(d)):
            if name.startswith(".") and not name.endswith(".yaml"):
                continue
            full = os.path.join(d, name)
            if os.path.isdir(full):
                walk(full, prefix + "/" + name)
            else:
                out.append(prefix + "/" + name)

    for top in TOP_FOLDERS:
        d = os.path.join(root, top)
        if os.path.isdir(d):
            walk(d, top)
    return out


_validators = {}


def validator(name):
    if name not in _validators:
        with open(os.path.join(SCHEMAS, name), encoding="utf-8") as f:
            _validators[name] = Draft202012Validator(json.load(f))
    return _validators[name]


def describe(err):
    """One readable line per schema error, close to the loader's own messages."""
    where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
    last = err.absolute_path[-1] if err.absolute_path else None
    desc = err.schema.get("description") if isinstance(err.schema, dict) else None
    if isinstance(last, str) and last.lower() in SECRET_KEYS and err.validator == "type":
        return "%s: literal secret in \"%s\": %s" % (where, last, SECRET_HINT)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        props = err.schema.get("properties", {})
        patterns = list(err.schema.get("patternProperties", {}))
        extra = [k for k in err.instance if k not in props and not any(re.search(p, str(k)) for p in patterns)]
        out = []
        for k in extra:
            near = difflib.get_close_matches(str(k), list(props), n=1, cutoff=0.6)
            out.append("unknown field \"%s\"%s" % (k, " (did you mean \"%s\"?)" % near[0] if near else ""))
        return "%s: %s" % (where, "; ".join(out) or err.message)
    if err.validator in ("anyOf", "oneOf", "not"):
        shown = "" if isinstance(err.instance, (dict, list)) else "%r: " % (err.instance,)
        return "%s: %s%s" % (where, shown, desc or "not valid here")
    if err.validator == "required" and desc:
        return "%s: %s" % (where, desc)
    if err.validator == "pattern" and desc:
        return "%s: %s (%s)" % (where, err.message, desc)
    return "%s: %s" % (where, err.message)


def check_file(root, rel, schema):
    """The list of problems (empty when the file passes)."""
    try:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            doc = yaml.load(f, Loader=HoneLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        return ["YAML: " + " ".join(str(e).split())]
    if doc is None:
        return ["file is empty: expected a mapping with kind: …"]
    errors = sorted(validator(schema).iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [describe(e) for e in errors]


def check_repository(root, out=print):
    passed = failed = 0
    for rel in list_files(root):
        schema, note = classify(rel)
        shown = os.path.relpath(os.path.join(root, rel))
        if schema == "error":
            out("FAIL %s: %s" % (shown, note))
            failed += 1
        elif schema:
            problems = check_file(root, rel, schema)
            if problems:
                out("FAIL %s (%s)" % (shown, schema))
                for p in problems:
                    out("     - " + p)
                failed += 1
            else:
                out("ok   %s (%s)" % (shown, schema))
                passed += 1
        elif note:
            out("warn %s: %s" % (shown, note))
    return passed, failed


def default_roots():
    """Every hone repository (a folder with hone.yaml) under examples/*/ and specs/fixtures/*/."""
    candidates = sorted(glob.glob(os.path.join(ROOT, "examples", "*"))) + sorted(glob.glob(os.path.join(SPECS, "fixtures", "*")))
    return [d for d in candidates if os.path.isfile(os.path.join(d, "hone.yaml"))]


def main(argv):
    roots = argv or default_roots()
    passed = failed = 0
    for root in roots:
        if not os.path.isdir(root):
            print("FAIL %s: not a directory" % root)
            failed += 1
            continue
        p, f = check_repository(root)
        passed += p
        failed += f
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
