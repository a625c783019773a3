#!/usr/bin/env python3
"""Builds fuzz/corpus/{spec,status}/ from specs/fixtures and examples/ (make fuzz-corpus).

Each input is one selector byte, then a file's bytes. The selector picks where the fuzz body puts
the file (Sources/HoneFuzz: SpecFuzz.places, StatusFuzz.keys), so each seed starts out decoded as
its own kind. Names are the inputs' SHA-1, as libFuzzer names what it adds."""
import hashlib
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "specs" / "fixtures", ROOT / "examples"]

# Selectors: the index in SpecFuzz.places (runs 0, evals 1, views 2, hone.yaml 3, group.yaml 4,
# models 5, datasets 6, runtimes 7, evaluations 8, evaluations/views 9) and StatusFuzz.keys.
def spec_selector(rel: str):
    parts = rel.split("/")
    name = parts[-1]
    if name == "hone.yaml":
        return 3
    if name == "group.yaml":
        return 4
    if "status" in parts:
        return None
    if "evaluations" in parts:
        return 9 if "views" in parts else 8
    for kind, selector in (("runs", 0), ("evals", 1), ("views", 2), ("models", 5), ("datasets", 6), ("runtimes", 7)):
        if kind in parts:
            return selector
    return None


def status_selector(rel: str):
    parts = rel.split("/")
    if "status" not in parts:
        return None
    if "evaluations" in parts:
        return 2
    return 0 if "runs" in parts else 1


def write(folder: pathlib.Path, data: bytes):
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    out = {name: ROOT / "fuzz" / "corpus" / name for name in ("spec", "status")}
    for folder in out.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for source in SOURCES:
        for path in sorted(source.rglob("*.yaml")):
            rel = path.relative_to(source).as_posix()
            data = path.read_bytes()
            for name, selector in (("spec", spec_selector(rel)), ("status", status_selector(rel))):
                if selector is not None:
                    write(out[name], bytes([selector]) + data)
                    if name == "status":  # the same file through the loader (StatusFuzz: selector + 3)
                        write(out[name], bytes([selector + 3]) + data)
    for name, folder in out.items():
        print(f"fuzz/corpus/{name}: {len(list(folder.iterdir()))} inputs")


if __name__ == "__main__":
    main()
