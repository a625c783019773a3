"""python -m hone_job import FORMAT FILE [--out PATH] [--append] [--summary]

Turns a third-party trainer's log into the job's metrics.jsonl (outputDir of $HONE_JOB, or --out)."""

from __future__ import annotations

import argparse
import sys
import warnings

from . import load
from ._json import HoneJobError
from .importers import READERS, TRAINER_META, trainer_state_totals, write_metrics
from .job import METRICS_FILE


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hone_job", description=__doc__.split("\n\n")[1])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="a trainer's log -> metrics.jsonl")
    imp.add_argument("format", choices=sorted(READERS), help="llamafactory: trainer_log.jsonl; torchtune: "
                     "DiskLogger .jsonl or .txt; trainer-state: transformers' trainer_state.json")
    imp.add_argument("file")
    imp.add_argument("--out", help="the metrics.jsonl to write (default: outputDir of $HONE_JOB)")
    imp.add_argument("--append", action="store_true", help="append instead of replacing the file")
    imp.add_argument("--summary", action="store_true",
                     help="trainer-state only: also merge the run's totals (train_loss, ...) into summary.json")
    args = parser.parse_args(argv)
    warnings.simplefilter("always")
    try:
        job = None if args.out and not args.summary else load()
        out = args.out or job.output(METRICS_FILE)
        rows = READERS[args.format](args.file)
        n = write_metrics(rows, out, append=args.append)
        print(f"imported {n} points from {args.file} into {out}")
        if args.summary:
            if args.format != "trainer-state":
                raise HoneJobError("--summary reads the totals of a trainer_state.json (format trainer-state)")
            totals = trainer_state_totals(args.file)
            if totals:
                job.update_summary(totals, {k: v for k, v in TRAINER_META.items() if k in totals})
                print(f"merged {', '.join(sorted(totals))} into {job.output('summary.json')}")
    except (HoneJobError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
