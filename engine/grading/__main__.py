"""Command line: grade saved exercise notebooks and print a score table per chapter.

    python -m engine.grading [NOTEBOOK_OR_FOLDER ...] [--strict]

Notebooks are read, never written.  Exit status is 0 unless ``--strict`` is given and an
exercise fails (useful in CI for the solutions).
"""

import argparse
import sys
from pathlib import Path

from engine.grading import EXERCISES
from engine.grading.core import DEFAULT_TIME_LIMIT_S
from engine.grading.notebooks import format_report, grade_notebook, worker_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.grading",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=["exercises"],
        help="notebooks or folders of notebooks (default: exercises)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if any exercise fails")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=DEFAULT_TIME_LIMIT_S,
        help="seconds each exercise may run (default: %(default)s)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result-fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # internal: grade one exercise of one notebook (see notebooks.worker_main)
        notebook, name = args.paths
        worker_main(notebook, name, args.time_limit, args.result_fd)

    chapters = {exercise.chapter for exercise in EXERCISES.values()}
    notebooks = []
    for path in map(Path, args.paths):
        if path.is_dir():
            notebooks += sorted(p for p in path.glob("*.ipynb") if p.stem in chapters)
        elif path.suffix == ".ipynb" and path.exists():
            notebooks.append(path)
        else:
            print(f"error: {path} is not a notebook or a folder of notebooks", file=sys.stderr)
            return 2
    if not notebooks:
        print(f"no exercise notebooks found in {' '.join(args.paths)}", file=sys.stderr)
        return 2
    reports = {nb: grade_notebook(nb, args.time_limit) for nb in notebooks}
    print(format_report(reports))
    failed = any(not r.passed for results in reports.values() for r in results)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
