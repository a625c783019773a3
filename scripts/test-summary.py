#!/usr/bin/env python3
"""Adds up what `make test` ran (XCTest and pytest logs) into one closing line: `tests: N passed, M failed`."""
import re
import sys

passed = failed = 0
for path in sys.argv[1:]:
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        continue
    # XCTest: the last "Executed N tests, with M failures" line is the grand total.
    totals = re.findall(r"Executed (\d+) tests?, with (\d+) failures?", text)
    if totals:
        n, f = map(int, totals[-1])
        passed += n - f
        failed += f
    # pytest: "33 passed, 1 failed in 9.08s" (one summary per run).
    for line in re.findall(r"^=*\s*(\d+ (?:passed|failed).*?) in [\d.]+s", text, re.M):
        p = re.search(r"(\d+) passed", line)
        f = re.search(r"(\d+) failed", line)
        passed += int(p.group(1)) if p else 0
        failed += int(f.group(1)) if f else 0
print(f"tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
