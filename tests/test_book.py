"""The website and the notebooks' conventions: the book builds with warnings as errors from the
stored outputs, works offline, its links and anchors resolve, and every notebook's Colab badge
and set-up cell agree with the one place that configures them (_config.yml).  What only a
browser can tell (layout, console, search) is in test_browser.py."""

import json
import re
from pathlib import Path

import pytest
import site_pages  # tests/site_pages.py: shared with test_appendix.py
import yaml

from tools import colab_links

ROOT = Path(__file__).resolve().parent.parent
REPO_URL, BRANCH = colab_links.repository()
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
    return colab_links.colab_url(path, REPO_URL, BRANCH)


def test_there_are_notebooks_to_check():
    assert CHAPTERS and NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebook_starts_with_a_title_and_its_own_colab_badge(path):
    first = text(cells(path)[0])
    assert first.startswith("# "), "the first cell must be the title"
    assert f"]({colab_url(path)})" in first, f"the Colab badge must link to {colab_url(path)}"
    assert "../assets/colab-badge.svg" in first, "use the local badge image (works offline)"


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_setup_cell_starts_with_the_install_block_for_the_configured_repository(path):
    """`make colab-links` writes it; test_colab.py runs it as Colab would."""
    setup = text(next(c for c in cells(path) if c["cell_type"] == "code"))
    assert setup.startswith(colab_links.install_block(REPO_URL, BRANCH)), (
        "run `make colab-links` after changing repository.url or repository.branch"
    )


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


def test_table_of_contents_lists_every_chapter_with_its_exercises_as_its_section():
    """So the website's Next at the end of a chapter opens its exercises."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [c for part in toc["parts"] for c in part["chapters"]]
    for entry in entries:
        for page in [entry, *entry.get("sections", [])]:
            path = page["file"]
            assert (ROOT / f"{path}.ipynb").exists() or (ROOT / f"{path}.md").exists(), path
    sections = {c["file"]: [s["file"] for s in c.get("sections", [])] for c in entries}
    for stem in CHAPTERS:
        expected = [f"exercises/{stem}"] if (ROOT / "exercises" / f"{stem}.ipynb").exists() else []
        assert sections.get(f"chapters/{stem}") == expected, stem
    for path in (ROOT / "exercises").glob("*.ipynb"):
        assert (ROOT / "chapters" / path.name).exists(), f"{path.name} has no chapter"


def markdown_sources() -> dict[str, str]:
    """The Markdown a reader sees: intro, pages, and the Markdown cells of every notebook."""
    sources = {p.name: p.read_text() for p in ROOT.glob("*.md") if p.name[0].islower()}
    for path in NOTEBOOKS:
        sources[path] = "\n".join(text(c) for c in cells(path) if c["cell_type"] == "markdown")
    return sources


def test_chapters_that_do_not_exist_yet_are_marked_as_coming():
    existing = {int(stem[:2]) for stem in CHAPTERS}
    for name, source in markdown_sources().items():
        for match in re.finditer(r"[Cc]hapters? (\d+)", source):
            if int(match.group(1)) not in existing:
                after = source[match.end() : match.end() + 30]
                assert "coming" in after, f"{name}: {source[match.start() : match.end() + 30]!r}"


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


def test_every_internal_link_and_anchor_resolves(built_site, pages):
    checked = 0
    for path, page in pages.items():
        for href, _ in page.links:
            if not site_pages.is_internal(href):
                continue
            problem = site_pages.broken(pages, path, href)
            assert problem is None, f"{path.relative_to(built_site)} links to {href}: {problem}"
            checked += 1
    assert checked > 400


@pytest.mark.parametrize("stem", CHAPTERS)
def test_next_at_the_end_of_a_chapter_opens_its_exercises(pages, built_site, stem):
    page = pages[built_site / "chapters" / f"{stem}.html"]
    following = [href for href, classes in page.links if "right-next" in classes]
    assert following == [f"../exercises/{stem}.html"]


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_figure_has_alt_text(pages, built_site, stem):
    """myst-nb's default alt text is the image's file name; each figure says what it shows."""
    images = pages[built_site / "chapters" / f"{stem}.html"].images
    figures = [i for i in images if "_images/" in i["src"] and "colab-badge" not in i["src"]]
    assert figures
    for image in figures:
        alt = image.get("alt", "")
        assert len(alt) > 20 and not re.search(r"\.(png|svg)$", alt), image["src"]


def test_every_page_has_a_favicon_an_index_and_no_script_twice(pages, built_site):
    assert (built_site / "_static" / "favicon.svg").exists()
    assert (built_site / "favicon.ico").exists()  # for pages with no icon link (the redirect)
    index = (built_site / "genindex.html").read_text(encoding="utf-8")
    assert index.count('href="chapters/') >= 20, "the index lists the chapters' terms"
    for path, page in pages.items():
        scripts = [s for s in page.scripts if s]
        assert len(scripts) == len(set(scripts)), f"{path.name} includes a script twice"
        assert not any("THEBE" in s for s in scripts), path.name
