"""Command line: grade saved exercise notebooks and print a score table per chapter.

    python -m engine.grading [NOTEBOOK_OR_FOLDER ...] [--chapter NN] [--json] [--strict]

Notebooks are read, never written.  A notebook is graded as the chapter its name matches:
``01_backprop_by_hand.ipynb``, and copies such as ``01_backprop_by_hand-Copy1.ipynb``,
``Copy of 01_backprop_by_hand.ipynb`` or ``01_backprop_by_hand (1).ipynb``.

Exit status: 0; 1 with ``--strict`` when an exercise fails (useful in CI for the solutions);
2 when something could not be graded (a path that is not a notebook, a notebook whose name
matches no chapter, no notebook found).
"""

import argparse
import json
import sys
from pathlib import Path

from engine.grading import EXERCISES
from engine.grading.core import DEFAULT_TIME_LIMIT_S
from engine.grading.notebooks import (
    format_report,
    grade_notebook,
    match_chapter,
    report_as_json,
    unmatched_hint,
    worker_main,
)


def select_chapters(wanted: str | None, chapters: set[str]) -> set[str] | None:
    """The chapters ``--chapter`` names (``05``, ``5`` or ``05_name``); None if none match."""
    if not wanted:
        return chapters
    number = wanted.zfill(2) if wanted.isdigit() else wanted
    chosen = {c for c in chapters if c == number or c.startswith(number + "_")}
    return chosen or None


def main(argv: list[str] | None = None) -> int:
    """Run the command line (see the module docstring); returns the exit status."""
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
    parser.add_argument("--chapter", help="grade only this chapter's notebooks (05, 5 or 05_name)")
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON instead of a table"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=DEFAULT_TIME_LIMIT_S,
        help="seconds of processor time each exercise may use (default: %(default)s)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cells-time-limit", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # internal: grade one exercise of one notebook (see notebooks.worker_main)
        notebook, name = args.paths
        worker_main(notebook, name, args.time_limit, args.result_fd, args.cells_time_limit)

    chapters = {exercise.chapter for exercise in EXERCISES.values()}
    wanted = select_chapters(args.chapter, chapters)
    if wanted is None:
        print(
            f"error: no exercises for chapter {args.chapter}; chapters with exercises: "
            f"{', '.join(sorted(chapters))}",
            file=sys.stderr,
        )
        return 2
    notebooks: dict[Path, str] = {}
    unmatched: list[Path] = []
    for path in map(Path, args.paths):
        if path.is_dir():
            candidates = sorted(path.glob("*.ipynb"))
        elif path.suffix == ".ipynb" and path.exists():
            candidates = [path]
        else:
            print(f"error: {path} is not a notebook or a folder of notebooks", file=sys.stderr)
            return 2
        for candidate in candidates:
            chapter = match_chapter(candidate.stem, chapters)
            if chapter is None:
                unmatched.append(candidate)
            elif chapter in wanted:
                notebooks[candidate] = chapter
    for path in unmatched:
        print(f"not graded: {unmatched_hint(path)}", file=sys.stderr)
    if not notebooks:
        which = f" for chapter {args.chapter}" if args.chapter else ""
        print(f"no exercise notebooks{which} found in {' '.join(args.paths)}", file=sys.stderr)
        return 2
    reports = {
        nb: grade_notebook(nb, args.time_limit, chapter=chapter)
        for nb, chapter in notebooks.items()
    }
    if args.json:
        report = report_as_json(reports, notebooks)
        report["not_graded"] = [
            {"path": str(path), "why": unmatched_hint(path)} for path in unmatched
        ]
        print(json.dumps(report, indent=2))
    else:
        print(format_report(reports, notebooks))
    if unmatched:
        return 2
    failed = any(not r.passed for results in reports.values() for r in results)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
