"""The interview-question appendix and the "how to use this course" page.

The appendix answers all 100 seed questions (five files: 000 x20, 001 x7, 002 x3, 003 x60,
004 x10), merged into 79 distinct questions Q01..Q79, and corrects the 59 seed claims C01..C59
(the ids of ../shared/reviews/seed-coverage.md).  These tests fail when a seed id is missing or
filed under the wrong question, when a question or claim has no link to its evidence, or when a
link's page or anchor does not exist in the built site (the book is built once per session, by
the fixture in conftest.py that test_book.py and test_browser.py share).
"""

import functools
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import site_pages  # tests/site_pages.py: the link checker test_book.py uses for the whole site
import yaml
from myst_parser.mdit_to_docutils.base import default_slugify

ROOT = Path(__file__).resolve().parent.parent
APPENDIX = "chapters/appendix_interview_questions"
HOW_TO_USE = "how_to_use"
SEED_FILES = {"000": 20, "001": 7, "002": 3, "003": 60, "004": 10}
SEED_IDS = {f"{name}#{n}" for name, count in SEED_FILES.items() for n in range(1, count + 1)}
ESSAYS = {"Q74", "Q75", "Q76"}
CLAIMS = {f"C{n:02d}" for n in range(1, 60)}

# The 79 distinct questions and the seed questions each merges (seed-coverage.md, section 1).
QUESTIONS = dict(
    (entry.split(" ", 1)[0], set(entry.split(" ", 1)[1].split(", ")))
    for entry in """
Q01 000#1; Q02 000#2; Q03 001#4, 002#3, 003#5; Q04 000#3, 003#25; Q05 000#4;
Q06 000#20, 003#9; Q07 000#5, 003#24; Q08 000#6; Q09 000#7, 003#35; Q10 003#59;
Q11 000#8, 003#33; Q12 000#9, 003#10; Q13 000#10; Q14 000#11, 003#16; Q15 002#2, 003#11;
Q16 000#12, 001#6; Q17 001#5; Q18 000#13; Q19 000#14, 003#21; Q20 000#15; Q21 000#16;
Q22 000#17, 004#9; Q23 000#18; Q24 000#19, 003#23; Q25 001#1; Q26 001#2; Q27 001#3;
Q28 001#7; Q29 002#1, 003#4, 004#4; Q30 003#1, 004#3; Q31 003#2; Q32 003#3; Q33 003#6;
Q34 003#7; Q35 003#8, 003#37; Q36 003#12; Q37 003#13; Q38 003#14, 003#57; Q39 003#44;
Q40 003#15, 004#10; Q41 003#17; Q42 003#18; Q43 003#19; Q44 003#20; Q45 003#22; Q46 003#26;
Q47 003#27; Q48 003#28; Q49 003#29; Q50 003#30; Q51 003#31; Q52 003#32; Q53 003#34;
Q54 003#36, 004#8; Q55 003#38; Q56 003#39; Q57 003#40; Q58 003#41; Q59 003#42; Q60 003#43;
Q61 003#45; Q62 003#46; Q63 003#47; Q64 003#48; Q65 003#49; Q66 003#50; Q67 003#51;
Q68 003#52; Q69 003#53; Q70 003#54; Q71 003#55; Q72 003#56; Q73 003#58; Q74 003#60;
Q75 004#1; Q76 004#2; Q77 004#5; Q78 004#6; Q79 004#7
""".replace("\n", " ").split(";")
    for entry in [entry.strip()]
)

# A question: **Qnn. The question?** *(seeds 003#17, 000#1)*, with ", essay" for essays.
QUESTION = re.compile(r"^\*\*(Q\d\d)\. ((?:(?!\*\*).)+)\*\*\s+\*\(seeds?\s([^)]*)\)\*", re.M | re.S)
# A row of the claims table: | C05 (000#7, 003#35): what the seed says | what is true | ...
CLAIM_ROW = re.compile(r"^\| (C\d\d) \(([^)]*)\):", re.M)


def source(name: str) -> str:
    return (ROOT / f"{name}.md").read_text(encoding="utf-8")


def questions() -> dict[str, tuple[str, list[str], bool]]:
    """Each question of the appendix: its text, its seed ids, whether it is marked an essay."""
    found = {}
    for match in QUESTION.finditer(source(APPENDIX)):
        qid, text, marks = match.groups()
        assert qid not in found, f"{qid} is asked twice"
        words = [w.strip() for w in marks.split(",")]
        found[qid] = (text, [w for w in words if w != "essay"], "essay" in words)
    return found


def test_the_seed_list_is_the_hundred_questions_merged_into_seventy_nine():
    assert len(SEED_IDS) == 100 and len(QUESTIONS) == 79
    merged = [seed for seeds in QUESTIONS.values() for seed in seeds]
    assert sorted(merged) == sorted(SEED_IDS)


def test_every_seed_id_appears_under_its_question():
    found = questions()
    missing = sorted(set(QUESTIONS) - set(found))
    assert not missing, "questions missing from the appendix: " + ", ".join(map(describe, missing))
    assert not set(found) - set(QUESTIONS), f"unknown question ids {set(found) - set(QUESTIONS)}"
    for qid, (_, seeds, _) in found.items():
        assert set(seeds) == QUESTIONS[qid] and len(seeds) == len(set(seeds)), (
            f"{qid} must carry the seed ids {sorted(QUESTIONS[qid])}, not {seeds}"
        )
    written = set(re.findall(r"\b00[0-4]#\d+\b", source(APPENDIX)))
    assert not SEED_IDS - written, f"seed ids missing: {sorted(SEED_IDS - written)}"
    assert not written - SEED_IDS, f"no such seed ids: {sorted(written - SEED_IDS)}"


def test_only_the_essay_questions_are_marked_essay():
    marked = {qid for qid, (_, _, essay) in questions().items() if essay}
    assert marked == ESSAYS


def test_every_seed_claim_has_a_row_with_its_seed_ids():
    rows = {cid: seeds for cid, seeds in CLAIM_ROW.findall(source(APPENDIX))}
    assert not CLAIMS - set(rows), f"claims missing from the table: {sorted(CLAIMS - set(rows))}"
    for cid, seeds in rows.items():
        ids = set(re.findall(r"00[0-4]#\d+", seeds))
        assert ids and ids <= SEED_IDS, f"{cid}: seed ids {seeds!r}"


# Where an entry's evidence is, in the Markdown source: {ref}`text <label>` or [text](path#slug).
REF = re.compile(r"\{ref\}`(?:[^`<]*<([^>`]+)>|([^`]+))`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def labels(path: Path) -> set[str]:
    """The labels `(name)=` of a page or notebook: what {ref} links to."""
    return set(re.findall(r"^\(([^)\s]+)\)=\s*$", markdown_of(path), re.M))


def anchors(path: Path) -> set[str]:
    """What a [text](page#anchor) link may name: a label, or a heading's slug (levels 1 to 3, as
    `myst_heading_anchors: 3` in _config.yml makes them, with MyST's own slug function)."""
    headings = re.findall(r"^#{1,3} (.+)$", markdown_of(path), re.M)
    return labels(path) | {default_slugify(re.sub(r"[`*]", "", h)) for h in headings}


@functools.cache
def site_labels() -> set[str]:
    sources = [*ROOT.glob("*.md"), *ROOT.glob("chapters/*.md")]
    sources += [*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("exercises/*.ipynb")]
    return {label for path in sources for label in labels(path)}


def describe(item: str) -> str:
    """A question with its seed ids (the way a failure names it), or a claim id."""
    return f"{item} (seeds {', '.join(sorted(QUESTIONS[item]))})" if item in QUESTIONS else item


def missing_targets(text: str, page: str) -> list[str]:
    """The targets named in ``text`` (Markdown of the page ``page``) that do not exist, or a
    complaint that it names none."""
    refs = [a or b for a, b in REF.findall(text)]
    links = [href for href in LINK.findall(text) if "://" not in href]
    if not refs + links:
        return ["no link to its evidence"]
    problems = [f"no label ({label})= in any page" for label in refs if label not in site_labels()]
    for href in links:
        name, _, fragment = href.partition("#")
        target = (ROOT / page).parent / name if name else ROOT / f"{page}.md"
        if not target.exists():
            problems.append(f"{href}: no file {target.relative_to(ROOT)}")
        elif fragment and fragment not in anchors(target):
            problems.append(f"{href}: no heading or label #{fragment} in {target.name}")
    return problems


def entries() -> dict[str, str]:
    """The Markdown of each question (up to the next question or heading) and claim row."""
    text = source(APPENDIX)
    found = {}
    for match in re.finditer(r"^\*\*(Q\d\d)\..*?(?=^\*\*Q\d\d\.|^#|\Z)", text, re.M | re.S):
        found[match.group(1)] = match.group(0)
    for match in re.finditer(r"^\| (C\d\d) .*$", text, re.M):
        found[match.group(1)] = match.group(0)
    return found


def test_every_question_and_claim_names_evidence_that_exists_in_the_sources():
    """Without building the site: each entry links somewhere, and each label, page and heading
    it links to exists (the built-site test below then checks the links themselves)."""
    found = entries()
    problems = []
    for item in sorted(set(QUESTIONS) | CLAIMS):
        name = describe(item)
        if item not in found:
            problems.append(f"{name}: not in the appendix")
            continue
        problems += [f"{name}: {p}" for p in missing_targets(found[item], APPENDIX)]
    assert not problems, "\n".join(problems)


def interview_section(path: Path) -> str:
    """A chapter's "Interview questions" section, up to its exercises."""
    text = markdown_of(path)
    start = text.find("## Interview questions")
    if start < 0:
        return ""
    end = text.find("## Exercises", start)
    return text[start : end if end > 0 else len(text)]


def test_every_chapter_that_answers_a_seed_question_is_linked_from_its_entry():
    """A chapter whose interview section names a seed id holds evidence for that question, so
    the question's entry links to it (a {ref} to one of its labels, or a link to the notebook):
    an answer added to a chapter later shows up here until the appendix points at it."""
    found = entries()
    question_of = {seed: qid for qid, seeds in QUESTIONS.items() for seed in seeds}
    problems = []
    for path in sorted(ROOT.glob("chapters/*.ipynb")):
        for seed in sorted(set(re.findall(r"\b00[0-4]#\d+\b", interview_section(path)))):
            if seed not in question_of:
                problems.append(f"{path.name} names {seed}, which is no seed question")
                continue
            entry = found.get(question_of[seed], "")
            refs = {a or b for a, b in REF.findall(entry)}
            files = {href.partition("#")[0].rsplit("/", 1)[-1] for href in LINK.findall(entry)}
            if not (refs & labels(path) or path.name in files):
                problems.append(
                    f"{describe(question_of[seed])}: {path.name} answers {seed}, "
                    "and the entry does not link to it"
                )
    assert not problems, "\n".join(problems)


class _Blocks(HTMLParser):
    """The paragraphs and table rows of a page: their text and the links in them."""

    def __init__(self):
        super().__init__()
        self.blocks, self.depth = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "tr"):
            if self.depth == 0:
                self.blocks.append(["", []])
            self.depth += 1
        elif tag == "a" and self.depth and "href" in dict(attrs):
            self.blocks[-1][1].append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag in ("p", "tr") and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.blocks[-1][0] += data


def evidence(site: Path) -> dict[str, list[str]]:
    """The links of each question (Qnn) and claim (Cnn) on the built appendix page."""
    page = site / f"{APPENDIX}.html"
    assert page.exists(), f"{page.name} was not built: is {APPENDIX} in _toc.yml?"
    parser = _Blocks()
    parser.feed(page.read_text(encoding="utf-8"))
    links = {}
    for text, hrefs in parser.blocks:
        match = re.match(r"\s*(Q\d\d)\.|\s*(C\d\d)(?!\d)", text)
        if match:
            links[match.group(1) or match.group(2)] = hrefs
    return links


def test_every_question_and_claim_links_to_evidence_that_exists(built_site, pages):
    page = built_site / f"{APPENDIX}.html"
    links = evidence(built_site)
    problems = []
    for item in sorted(set(QUESTIONS) | CLAIMS):
        name = describe(item)
        if item not in links:
            problems.append(f"{name}: not on the page {page.name}")
            continue
        internal = [href for href in links[item] if site_pages.is_internal(href)]
        elsewhere = [h for h in internal if site_pages.link_target(page, h) != page.resolve()]
        if not elsewhere:
            problems.append(f"{name}: no link to the section that demonstrates it")
        for href in internal:
            problem = site_pages.broken(pages, page, href)
            if problem:
                problems.append(f"{name}: link {href}: {problem}")
    assert not problems, "\n".join(problems)


def test_how_to_use_gives_three_paths_through_sections_and_exercises(built_site, pages):
    text = source(HOW_TO_USE)
    paths = re.findall(r"^## (.+)$", text, re.M)
    for path in ("interview", "systems course", "practitioner"):
        assert any(path in heading.lower() for heading in paths), f"no path for {path}"
    page = built_site / f"{HOW_TO_USE}.html"
    assert page.exists(), f"{page.name} was not built: is {HOW_TO_USE} in _toc.yml?"
    hrefs = [href for href, _ in pages[page].links if site_pages.is_internal(href)]
    assert sum("exercises/" in href for href in hrefs) >= 6, "the paths name exercises"
    assert sum("#" in href and "chapters/" in href for href in hrefs) >= 20, "and sections"
    for href in hrefs:
        assert site_pages.broken(pages, page, href) is None, href


@pytest.mark.parametrize("name", [HOW_TO_USE, APPENDIX])
def test_the_pages_are_in_the_table_of_contents_and_the_intro_links_them(name):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert name in files
    assert f"({name}.md" in source("intro")
