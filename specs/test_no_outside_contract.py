"""specs/ is hone's contract: no file of the repository may point at a contract outside it.

The project once cited a design document kept outside the repository ("design" followed by a section
sign and a number, its file name, the folder beside the clone that held it). Every such reference was
dangling for anyone with only the repository; this test keeps them from coming back.

    python3 -m pytest -q specs/test_no_outside_contract.py
"""
import os
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Written so that this file does not match itself.
SECTION = "\u00a7"
PATTERNS = [
    re.compile(("design" + r"\s*" + SECTION).encode(), re.IGNORECASE),  # "design", the sign, a number
    re.compile(("design" + r"\.md").encode(), re.IGNORECASE),
    re.compile((r"\.\./" + "shared").encode()),
]

# What git ignores (.gitignore) and git's own folder: build products, caches, hone's private folder.
SKIPPED_DIRS = {".git", ".hone", "__pycache__", ".pytest_cache", "node_modules", "bench-out"}


def skipped(dirname: str) -> bool:
    return dirname in SKIPPED_DIRS or dirname.startswith(".build") or dirname.endswith(".egg-info")


def repository_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel = pathlib.Path(dirpath).relative_to(ROOT)
        dirnames[:] = sorted(d for d in dirnames
                             if not skipped(d) and (rel / d).as_posix() != "python/hone_job/build")
        for name in sorted(filenames):
            path = pathlib.Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def references(data: bytes):
    for number, line in enumerate(data.split(b"\n"), start=1):
        for pattern in PATTERNS:
            if pattern.search(line):
                yield number, line.decode("utf-8", "replace").strip()
                break


def test_the_walk_sees_the_repository():
    seen = {p.relative_to(ROOT).as_posix() for p in repository_files()}
    # The pages and the code the test must cover are all walked.
    for path in ["specs/README.md", "specs/versions.md", "README.md", "Package.swift",
                 "Sources/hone/main.swift", "examples/quickstart/handlers/finetune.py"]:
        assert path in seen, f"{path} is not among the files checked"


def test_the_patterns_catch_what_they_are_for():
    caught = [b"see design " + SECTION.encode() + b"3", b"(Design " + SECTION.encode() + b"4)",
              b"in DESIGN" + b".md", b"cat ../" + b"shared/notes.md"]
    for text in caught:
        assert list(references(text)), text
    for text in [b"a design choice", b"workdir: /shared/hone", b"docs/design-notes"]:
        assert not list(references(text)), text


def test_no_file_refers_to_a_contract_outside_the_repository():
    found = []
    for path in repository_files():
        for number, line in references(path.read_bytes()):
            found.append(f"{path.relative_to(ROOT)}:{number}: {line}")
    assert not found, ("these lines point at a document that is not in the repository; the contract is "
                       "specs/ (name the specs page instead):\n" + "\n".join(found))
