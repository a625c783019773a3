#!/usr/bin/env python3
"""Make the LoRA example's task data: questions about Python's standard library and the call that answers
them ("Q: How do I take the square root of a number?" -> "A: math.sqrt").

Made from templates with a fixed seed, so the same command always writes the same bytes, and the data is
free to redistribute:

    python3 tools/make_data.py            # writes data/{train,val,test}.jsonl
    python3 tools/make_data.py --check    # verifies the committed files

Each row is {"id", "prompt", "answer"}; the text a model learns is prompt + answer + "\n":

    {"id": "test-0001", "prompt": "Q: I need to read a JSON string into objects. What do I use?\nA:", "answer": " json.loads"}

The splits share the tasks, the ways to say them and the sentence templates, but no question: a test
question is a combination of wording and template that no training row has.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys

SEED = 20260415
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# answer -> ways to say what it does
TASKS = {
    "math.sqrt": ["take the square root of a number", "compute a square root"],
    "math.floor": ["round a number down to an integer", "get the floor of a float"],
    "os.listdir": ["list the files in a directory", "see what a folder contains"],
    "os.remove": ["delete a file", "remove a file from disk"],
    "os.getcwd": ["find the current working directory", "get the directory I am in"],
    "json.loads": ["read a JSON string into objects", "parse JSON text"],
    "json.dumps": ["turn objects into a JSON string", "serialize data as JSON text"],
    "re.sub": ["replace text that matches a regular expression", "substitute a regex pattern"],
    "re.findall": ["find every match of a regular expression", "collect all regex matches"],
    "random.choice": ["pick a random element of a list", "choose an item at random"],
    "random.shuffle": ["shuffle a list in place", "put a list in random order"],
    "time.sleep": ["wait for a few seconds", "pause the program for a while"],
    "shutil.copy": ["copy a file to another place", "duplicate a file"],
    "shutil.rmtree": ["delete a whole directory tree", "remove a folder and everything in it"],
    "sorted": ["sort the items of a list into a new list", "get the values in order"],
    "len": ["count the items in a list", "get the length of a string"],
    "hashlib.sha256": ["compute a SHA-256 digest", "hash bytes with SHA-256"],
    "base64.b64encode": ["encode bytes as base64", "turn binary data into base64 text"],
    "datetime.now": ["get the current date and time", "find out what time it is now"],
    "zipfile.ZipFile": ["open a zip archive", "read the files inside a zip"],
    "csv.reader": ["read rows from a CSV file", "parse comma separated values"],
    "itertools.chain": ["join several iterables into one", "iterate over many lists one after another"],
    "collections.Counter": ["count how often each item occurs", "tally the values in a list"],
    "subprocess.run": ["run another program", "start a shell command and wait for it"],
}

TEMPLATES = [
    "Q: How do I {d}?\nA:",
    "Q: What should I call to {d}?\nA:",
    "Q: Which function can {d}?\nA:",
    "Q: In Python, how can I {d}?\nA:",
    "Q: What is the way to {d}?\nA:",
    "Q: Tell me how to {d}.\nA:",
    "Q: I need to {d}. What do I use?\nA:",
    "Q: Best way to {d} in Python?\nA:",
]
VAL, TEST = 48, 96


def make() -> dict:
    """Every (task, wording, template) question once, shuffled with SEED, then split: the first TEST rows are
    the test set, the next VAL the validation set, the rest the training set."""
    rng = random.Random(SEED)
    questions = [{"prompt": t.format(d=d), "answer": " " + answer}
                 for answer, descriptions in TASKS.items() for d in descriptions for t in TEMPLATES]
    rng.shuffle(questions)
    splits = {"test.jsonl": questions[:TEST], "val.jsonl": questions[TEST:TEST + VAL],
              "train.jsonl": questions[TEST + VAL:]}
    return {name: [{"id": f"{name.split('.')[0]}-{i + 1:04d}", **q} for i, q in enumerate(qs)]
            for name, qs in splits.items()}


def text_of(files) -> dict:
    return {name: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs) for name, rs in files.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    ap.add_argument("--out", default=os.path.join(ROOT, "data"))
    args = ap.parse_args()
    texts = text_of(make())
    if args.check:
        bad = []
        for name, text in texts.items():
            path = os.path.join(args.out, name)
            if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
                bad.append(name)
        print("data/ is what tools/make_data.py makes" if not bad else f"differs: {', '.join(bad)}")
        return 1 if bad else 0
    os.makedirs(args.out, exist_ok=True)
    for name, text in texts.items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote data/{name} ({text.count(chr(10))} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
