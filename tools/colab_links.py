"""Stamp the repository that Colab installs from into every notebook.

The repository's address and branch are set once, in ``_config.yml`` (``repository.url`` and
``repository.branch``); the website's launch buttons read them there.  Each notebook carries
them twice more: in its "Open in Colab" badge (first cell) and in the install block that starts
its first code cell.  ``make colab-links`` rewrites both from ``_config.yml``, and
``tests/test_book.py`` fails when a notebook disagrees with it.  Only those two places of a
notebook change; nothing else a notebook holds (answers included) is touched.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("chapters", "exercises", "solutions")
BADGE = re.compile(r"\]\(https://colab\.research\.google\.com/github/[^)]*\)")
# The install block runs from its first line to the line that closes the RuntimeError.
BLOCK = re.compile(r"\Aimport sys\n\n# In Colab, .*?\n        \)\n", re.DOTALL)


def repository() -> tuple[str, str]:
    """The repository's URL and branch, from ``_config.yml``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/"), config["repository"]["branch"]


def colab_url(path: str, url: str, branch: str) -> str:
    """The Colab address that opens ``path`` (relative to the repository) on GitHub."""
    github_path = url.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github_path}/blob/{branch}/{path}"


def install_block(url: str, branch: str) -> str:
    """The lines that start every notebook's first code cell: in Colab, install the engine
    with everything the chapters import (the ``course`` extra), or stop with a clear error."""
    code = f'''import sys

# In Colab, install the course's engine and what the chapters import.
REPO = "{url}"
if "google.colab" in sys.modules:
    import subprocess

    pip = [sys.executable, "-m", "pip", "install", "-q"]
    if subprocess.run([*pip, f"engine[course] @ git+{{REPO}}@{branch}"]).returncode:
        raise RuntimeError(
            f"Could not install the course's engine from {{REPO}} (branch "
            "{branch}); pip says why above. A fork sets its own repository in "
            "_config.yml and runs `make colab-links`."
        )
'''
    return _formatted(code)


def _formatted(code: str) -> str:
    """``code`` as ruff formats notebook cells (80 columns), so formatting never changes it."""
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "format", "--line-length", "80", "--stdin-filename", "cell.py", "-"],
        input=code,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def notebooks() -> list[Path]:
    """Every notebook of the course."""
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("*.ipynb"))


def stamp(path: Path, url: str, branch: str) -> bool:
    """Rewrite the badge and the install block of one notebook; True if it changed."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook["cells"]
    relative = path.relative_to(ROOT).as_posix()
    title = "".join(cells[0]["source"])
    new_title = BADGE.sub(f"]({colab_url(relative, url, branch)})", title, count=1)
    setup = next(c for c in cells if c["cell_type"] == "code")
    code = "".join(setup["source"])
    if not BLOCK.match(code):
        raise SystemExit(f"{relative}: the first code cell does not start with the install block")
    new_code = BLOCK.sub(lambda _: install_block(url, branch), code, count=1)
    if (new_title, new_code) == (title, code):
        return False
    cells[0]["source"] = new_title.splitlines(keepends=True)
    setup["source"] = new_code.splitlines(keepends=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main() -> None:
    url, branch = repository()
    changed = [p.relative_to(ROOT).as_posix() for p in notebooks() if stamp(p, url, branch)]
    print(f"{url}@{branch}: {len(changed)} notebook(s) updated", *changed, sep="\n  ")


if __name__ == "__main__":
    sys.exit(main())
