"""Each notebook's set-up cell, run as Google Colab runs it.

A fresh virtual environment gets exactly the packages Colab preinstalls that the course relies
on (tests/colab_packages.txt, with what they need, linked from this project's environment) and
a `google.colab` module, imported before any cell as in Colab.  The repository setting is
pointed at a local clone of this working tree (`file://`), pip may not use an index, and the
clone is not on the path: so the set-up cell must install the engine from the repository with
everything the notebook imports, and then every import of the notebook must work.
"""

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from tools import colab_links

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [p.relative_to(ROOT).as_posix() for p in colab_links.notebooks()]
# pip with no index and no configuration of this machine's; the engine is built with the
# preinstalled setuptools (Colab would download one into an isolated build environment).
OFFLINE_PIP = {
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_NO_INDEX": "1",
    "PIP_NO_BUILD_ISOLATION": "0",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


def colab_distributions() -> list[importlib.metadata.Distribution]:
    """The listed distributions and, from their metadata, everything they require."""
    listed = (ROOT / "tests" / "colab_packages.txt").read_text().split("\n")
    todo = [line.strip() for line in listed if line.strip() and not line.startswith("#")]
    environment = {**default_environment(), "extra": ""}
    found = {}
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        found[key] = importlib.metadata.distribution(name)
        for line in found[key].requires or []:
            requirement = Requirement(line)
            if not requirement.marker or requirement.marker.evaluate(environment):
                todo.append(requirement.name)
    return list(found.values())


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> dict:
    """A Colab-like Python (its interpreter) and a clone of this working tree (its URL)."""
    base = tmp_path_factory.mktemp("colab")
    # The working tree as a repository of one commit: tracked files and new files not ignored.
    clone = base / "repository"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=clone, check=True)
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "working tree"], cwd=clone, check=True)
    # Colab's preinstalled packages: links to this environment's copies, nothing else.
    preinstalled = base / "preinstalled"
    (preinstalled / "google" / "colab").mkdir(parents=True)
    (preinstalled / "google" / "colab" / "__init__.py").write_text('"""Colab, simulated."""\n')
    for distribution in colab_distributions():
        tops = {str(f).split("/")[0] for f in distribution.files or []}
        for top in tops - {"..", "__pycache__"}:
            source = Path(distribution.locate_file(top))
            if source.exists() and not (preinstalled / top).exists():
                (preinstalled / top).symlink_to(source)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "colab.pth").write_text(f"import site; site.addsitedir({str(preinstalled)!r})\n")
    return {"python": python, "url": clone.as_uri(), "cwd": base}


def imports_of(path: str) -> list[str]:
    """Every import statement in the notebook's code cells, as source lines."""
    found = []
    for cell in json.loads((ROOT / path).read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(ast.unparse(node))
    return sorted(set(found))


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_setup_cell_installs_what_the_notebook_imports_in_colab(colab, path):
    cells = json.loads((ROOT / path).read_text())["cells"]
    setup = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
    url, branch = colab_links.repository()
    assert f'REPO = "{url}"' in setup
    setup = setup.replace(f'REPO = "{url}"', f'REPO = "{colab["url"]}"')
    program = "\n".join(["import google.colab", setup, *imports_of(path), "print('imported')"])
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    environment.update(OFFLINE_PIP, MPLBACKEND="Agg")
    done = subprocess.run(
        [str(colab["python"]), "-c", program],
        cwd=colab["cwd"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.endswith("imported\n"), done.stderr[-3000:]


def test_setup_cell_says_clearly_when_the_repository_cannot_be_reached(colab):
    cells = json.loads((ROOT / NOTEBOOKS[0]).read_text())["cells"]
    url, _ = colab_links.repository()
    setup = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
    missing = (colab["cwd"] / "no-such-repository").as_uri()
    program = "import google.colab\n" + setup.replace(f'REPO = "{url}"', f'REPO = "{missing}"')
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    environment.update(OFFLINE_PIP)
    done = subprocess.run(
        [str(colab["python"]), "-c", program],
        cwd=colab["cwd"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert f"RuntimeError: Could not install the course's engine from {missing}" in done.stderr
