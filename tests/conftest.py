"""Test configuration shared by the whole suite.

Under CI (the ``CI`` environment variable is set, as `.ci/run` has it) hypothesis runs
derandomized: the same examples on every run, so a red CI is always reproducible.  Locally the
examples change from run to run and keep exploring; a failure prints the blob to replay it.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Notebooks that the grader tests run on purpose (they hold broken cells): not nbval's.
collect_ignore_glob = ["grading_cases/*"]
