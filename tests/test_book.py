"""The website and the notebooks' conventions: the book builds with warnings as errors from the
stored outputs, works offline, and every notebook's Colab badge and set-up cell agree with the
one place that configures them (_config.yml)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"]["branch"]
GITHUB_PATH = REPO_URL.removeprefix("https://github.com/")
NOTEBOOKS = sorted(
    p.relative_to(ROOT).as_posix()
    for folder in ("chapters", "exercises", "solutions")
    for p in (ROOT / folder).glob("*.ipynb")
)
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))


def cells(path: str) -> list[dict]:
    return json.loads((ROOT / path).read_text(encoding="utf-8"))["cells"]


def text(cell: dict) -> str:
    return "".join(cell["source"])


def colab_url(path: str) -> str:
    return f"https://colab.research.google.com/github/{GITHUB_PATH}/blob/{BRANCH}/{path}"


def test_there_are_notebooks_to_check():
    assert CHAPTERS and NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebook_starts_with_a_title_and_its_own_colab_badge(path):
    first = text(cells(path)[0])
    assert first.startswith("# "), "the first cell must be the title"
    assert f"]({colab_url(path)})" in first, f"the Colab badge must link to {colab_url(path)}"
    assert "../assets/colab-badge.svg" in first, "use the local badge image (works offline)"


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_setup_cell_installs_the_engine_only_in_colab(path):
    setup = text(next(c for c in cells(path) if c["cell_type"] == "code"))
    assert '"google.colab" in sys.modules' in setup
    assert f"git+{REPO_URL}@{BRANCH}" in setup


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_conventions(stem):
    chapter = cells(f"chapters/{stem}.ipynb")
    setup = text(next(c for c in chapter if c["cell_type"] == "code"))
    assert 'DEVICE = "cuda" if torch.cuda.is_available() else "cpu"' in setup
    markdown = "\n".join(text(c) for c in chapter if c["cell_type"] == "markdown")
    assert "## Interview questions" in markdown
    if (ROOT / "exercises" / f"{stem}.ipynb").exists():
        assert f"../exercises/{stem}.ipynb" in markdown


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.startswith("exercises/")])
def test_stored_outputs_come_from_one_top_to_bottom_run(path):
    code = [c for c in cells(path) if c["cell_type"] == "code" and text(c).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        "re-run the notebook top to bottom (make execute)"
    )
    for cell in code:
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        assert not errors or "raises-exception" in cell["metadata"].get("tags", [])


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.startswith("exercises/")])
def test_exercise_notebooks_are_committed_clean(path):
    for cell in cells(path):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_table_of_contents_lists_exactly_the_existing_chapters_and_exercises():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for entry in listed:
        assert (ROOT / f"{entry}.ipynb").exists() or (ROOT / f"{entry}.md").exists(), entry
    for stem in CHAPTERS:
        assert f"chapters/{stem}" in listed
    for path in (ROOT / "exercises").glob("*.ipynb"):
        assert f"exercises/{path.stem}" in listed


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """Build the book once, warnings as errors, from the stored outputs (no execution)."""
    output = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    done = subprocess.run(
        [
            str(jupyter_book),
            "build",
            str(ROOT),
            "--path-output",
            str(output),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return output / "_build" / "html"


def test_book_has_a_page_for_every_chapter(built_site):
    assert (built_site / "index.html").exists()
    for stem in CHAPTERS:
        assert (built_site / "chapters" / f"{stem}.html").exists()


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_page_shows_plots_graphs_and_math(built_site, stem):
    page = (built_site / "chapters" / f"{stem}.html").read_text(encoding="utf-8")
    assert re.search(r'<img [^>]*src="[^"]+\.png"', page), "the chapter's plots are missing"
    if '"image/svg+xml"' in (ROOT / "chapters" / f"{stem}.ipynb").read_text():
        assert "<svg" in page or re.search(r'<img [^>]*src="[^"]+\.svg"', page)
    assert r"\(" in page or r"\[" in page, "no math on the page"


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_page_launches_its_own_notebook_in_colab(built_site, stem):
    page = (built_site / "chapters" / f"{stem}.html").read_text(encoding="utf-8")
    assert colab_url(f"chapters/{stem}.ipynb") in page


def test_site_needs_no_network(built_site):
    """MathJax is served from the site; no script, style sheet or font comes from elsewhere."""
    assert (built_site / "_static" / "mathjax" / "tex-mml-chtml.js").exists()
    fonts = built_site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff"))
    for page in built_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="(https?:)?//[^"]*"', html)
        assert not remote, f"{page.name} loads {remote} from the network"
        # MathJax is loaded once, from the site, by every page with math (extensions load on
        # demand); pages without math need not load it.
        loads = len(re.findall(r'<script[^>]*_static/mathjax/[^"]*\.js', html))
        assert loads == (1 if 'class="math' in html else loads) and loads <= 1, page.name
