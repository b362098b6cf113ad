"""Test configuration shared by the whole suite.

Under CI (the ``CI`` environment variable is set, as `.ci/run` has it) hypothesis runs
derandomized: the same examples on every run, so a red CI is always reproducible.  Locally the
examples change from run to run and keep exploring; a failure prints the blob to replay it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import site_pages
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Notebooks that the grader tests run on purpose (they hold broken cells): not nbval's.
collect_ignore_glob = ["grading_cases/*"]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The website, built once per run with warnings as errors from the stored outputs (no
    execution); the book tests and the browser tests share it."""
    output = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    done = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(output), "-W", "-n"]
        + ["--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return output / "_build" / "html"


@pytest.fixture(scope="session")
def pages(built_site) -> dict[Path, site_pages.Page]:
    """Every page of the built site, parsed once (ids, links, images, scripts)."""
    return site_pages.parse_site(built_site)
