"""One verdict, and no forgery: each notebook under ``tests/grading_cases/`` is run top to
bottom in a Jupyter kernel (what a learner sees in the check cells) and graded from the shell
(what ``make grade`` reports); both must give the verdicts expected here."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from engine.grading.notebooks import checked_name, grade_notebook

CASES = Path(__file__).resolve().parent / "grading_cases"
EXPECTED = {
    # An answer below its stub, a helper in an untagged cell, display and prints without a
    # newline all pass; untouched stubs next to a cell that does not parse fail, and only they.
    "one_verdict": {
        "mul": True,
        "relu": True,
        "tanh": True,
        "topological_order": False,
        "backward": False,
    },
    # Untouched stubs behind a replaced registry, fake printed verdicts, atexit and sys.exit.
    "forgery": dict.fromkeys(["mul", "relu", "tanh", "topological_order", "backward"], False),
    # Wrong answers the old cases passed, and answers that call the engine's or torch's own
    # version: each fails, and the shell's message says why.
    "wrong_answers_02": {"broadcast_shapes": False, "transpose": False, "sliding_windows": False},
    "wrong_answers_03": {"matmul_backward": False},
    "wrong_answers_04": {"Swish": False, "backward_order": False},
    # Answers that end or stop the check (sys.exit, os._exit, KeyboardInterrupt, a 40 GB
    # allocation) and a check cell whose function was never defined: each gets a verdict that
    # names what happened, and the kernel survives.
    "misbehaving": dict.fromkeys(["mul", "relu", "tanh", "topological_order", "backward"], False),
}
# What the shell's message must say, per case where it differs from WHY.
WHY_IN_CASE = {
    "misbehaving": {
        "mul": "your code called sys.exit() or exit() (SystemExit: 'done')",
        "relu": "ended with exit status 3",
        "tanh": "interrupted (KeyboardInterrupt)",
        "topological_order": "ran out of memory (MemoryError)",
        "backward": "no definition of 'backward'",
    }
}
# ... and what the check cell printed in the kernel.
PRINTED_IN_CASE = {
    "misbehaving": {
        **WHY_IN_CASE["misbehaving"],
        "backward": "backward is not defined: run the exercise cell above",
    }
}
WHY = {
    "broadcast_shapes": "(2, 3), (4, 3)",
    "transpose": "your answer called engine.Tensor.transpose",
    "sliding_windows": "size=3, step=4",
    "matmul_backward": "your answer called torch.Tensor.backward",
    "Swish": "apply is overridden",
    "backward_order": "exp(exp(h)) + h",
}


def notebook_verdicts(path: Path, printed: dict[str, str] | None = None) -> dict[str, bool]:
    """Run the notebook in a kernel and read each check cell's [PASS]/[FAIL] line (and keep
    the text each printed in ``printed``)."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    verdicts = {}
    for cell in notebook.cells:
        name = checked_name(cell.source) if cell.cell_type == "code" else None
        if name is None:
            continue
        text = "".join(output.get("text", "") for output in cell.outputs)
        match = re.search(rf"\[(PASS|FAIL)\] {name}:", text)
        assert match, f"no verdict printed by the check cell of {name}: {text!r}"
        verdicts[name] = match.group(1) == "PASS"
        if printed is not None:
            printed[name] = text
    return verdicts


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_notebook_and_shell_give_the_expected_verdict(case):
    (path,) = (CASES / case).glob("*.ipynb")
    shell = {result.exercise: result for result in grade_notebook(path)}
    graded = {name: shell[name].passed for name in EXPECTED[case]}
    assert graded == EXPECTED[case], {name: shell[name].message for name in EXPECTED[case]}
    printed: dict[str, str] = {}
    assert notebook_verdicts(path, printed) == EXPECTED[case]
    for name, passed in EXPECTED[case].items():
        if not passed:
            why = WHY_IN_CASE.get(case, {}).get(name) or WHY.get(name, "not attempted yet")
            assert why in shell[name].message, shell[name].message
            in_kernel = PRINTED_IN_CASE.get(case, {}).get(name)
            if in_kernel:
                assert in_kernel in printed[name], printed[name]
