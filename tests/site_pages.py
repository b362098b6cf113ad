"""Reading the built website: the ids, links, images and scripts of each HTML page, and whether
a link from one page resolves to an existing page and anchor.  Shared by test_book.py (every
link of the site) and test_appendix.py (the evidence link of every interview question)."""

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    """The ids, links, images and scripts of one HTML page."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.images, self.scripts = set(), [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.links.append((attrs["href"], attrs.get("class", "")))
        if tag == "img":
            self.images.append(attrs)
        if tag == "script":
            self.scripts.append(attrs.get("src", ""))

    def handle_data(self, data):
        if self.lasttag == "script":
            self.scripts.append(data.strip())


def parse_site(site: Path) -> dict[Path, Page]:
    """Every HTML page of the built site, parsed, by its path."""
    parsed = {}
    for path in site.rglob("*.html"):
        parser = Page()
        parser.feed(path.read_text(encoding="utf-8"))
        parsed[path] = parser
    return parsed


def is_internal(href: str) -> bool:
    """A link within the site (not to another host, not mail)."""
    return not (urlsplit(href).scheme or href.startswith(("mailto:", "//")))


def link_target(path: Path, href: str) -> Path:
    """The file an internal link on the page at ``path`` opens."""
    parts = urlsplit(href)
    target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
    return target / "index.html" if target.is_dir() else target


def broken(pages: dict[Path, Page], path: Path, href: str) -> str | None:
    """Why the internal link ``href`` on the page at ``path`` does not resolve, or None if its
    page exists and, for an HTML page, has the anchor it names."""
    target = link_target(path, href)
    if not target.exists():
        return f"no page {target.name}"
    fragment = urlsplit(href).fragment
    if fragment and target.suffix == ".html" and fragment not in pages[target].ids:
        return f"no anchor #{fragment} in {target.name}"
    return None
