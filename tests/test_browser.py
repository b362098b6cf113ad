"""The website as readers see it: every page loaded in a real browser (headless Chromium, driven
by selenium), served from this machine with no other host reachable.

On a desktop window (1280 px) and a phone screen (390 px) each page must: log no console
error or warning, request nothing from another host, typeset all of its math, load all of its
images, and fit: no code or output cut off on the desktop, no sideways scrolling of the page
on the phone, and no picture shrunk below half its size there.  The phone menu opens the
chapter list, dark mode keeps plots legible, and the search page finds results offline.
Screenshots go to _build/screenshots/ for a person to look at.

Chromium and its driver come from Debian (`make browser` installs them); without them these
tests are skipped, with the reason printed in the summary, never passed silently.
"""

import functools
import http.server
import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "BROWSER TESTS SKIPPED: Chromium or ChromeDriver is missing "
        "(run `make browser`, or apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402  (only once the browser is known to exist)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

DESKTOP, PHONE = (1280, 900), (390, 844)
# Chromium's own background traffic (updates, sync, field trials) is switched off, so every
# request the log shows comes from the page.
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic "
    "--no-first-run --disable-background-networking --disable-component-update --disable-sync"
).split()


def page_names(site: Path) -> list[str]:
    pages = (p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return sorted(p for p in pages if not p.startswith("_static/"))  # theme templates


@pytest.fixture(scope="module")
def server(built_site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    yield driver
    driver.quit()


def visit(browser, server, page: str, size: tuple[int, int]) -> dict:
    """Load ``page`` at ``size``, wait for MathJax, and return what the page logged and
    requested while loading."""
    browser.set_window_size(*size)
    browser.get_log("browser"), browser.get_log("performance")  # start from empty logs
    browser.get(f"{server}/{page}")
    browser.execute_async_script(
        "const done = arguments[0];"
        "const ready = window.MathJax && MathJax.startup && MathJax.startup.promise;"
        "(ready || Promise.resolve()).then(() => done(), () => done());"
    )
    messages = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    requests = [
        m["params"]["request"]["url"]
        for m in messages
        if m["method"] == "Network.requestWillBeSent"
    ]
    name = page.removesuffix(".html").replace("/", "__")
    browser.save_screenshot(str(SCREENSHOTS / f"{name}-{size[0]}px.png"))
    return {"console": browser.get_log("browser"), "requests": requests}


MEASURE = """
const article = document.querySelector('.bd-article') || document.body;
const visible = (e) => e.getBoundingClientRect().width > 0;
const cut = [...article.querySelectorAll('pre')].filter(visible)
  .filter((e) => e.scrollWidth > e.clientWidth + 1)
  .map((e) => [e.closest('.cell_output') ? 'output' : 'code', e.scrollWidth, e.clientWidth,
               e.innerText.split('\\n').sort((a, b) => b.length - a.length)[0]]);
const images = [...article.querySelectorAll('img')].filter(visible).map((i) => ({
  src: i.getAttribute('src'), complete: i.complete, natural: i.naturalWidth,
  shown: i.getBoundingClientRect().width}));
const math = [...article.querySelectorAll('.math')];
return {
  cut, images,
  untypeset: math.filter((m) => !m.querySelector('mjx-container')).map((m) => m.textContent),
  pageWidth: document.documentElement.scrollWidth,
  viewWidth: document.documentElement.clientWidth,
};
"""


@pytest.fixture(scope="module")
def desktop(built_site, browser, server) -> dict:
    return {
        p: (visit(browser, server, p, DESKTOP), browser.execute_script(MEASURE))
        for p in page_names(built_site)
    }


@pytest.fixture(scope="module")
def phone(built_site, browser, server) -> dict:
    return {
        p: (visit(browser, server, p, PHONE), browser.execute_script(MEASURE))
        for p in page_names(built_site)
    }


def test_every_page_was_visited(built_site, desktop):
    pages = page_names(built_site)
    assert "intro.html" in pages and len(desktop) == len(pages) >= 12


def test_no_console_errors_or_warnings(desktop, phone):
    for views in (desktop, phone):
        for page, (seen, _) in views.items():
            problems = [
                e["message"] for e in seen["console"] if e["level"] in ("SEVERE", "WARNING")
            ]
            assert not problems, f"{page}: {problems}"


def test_no_request_leaves_this_machine(desktop, server):
    for page, (seen, _) in desktop.items():
        elsewhere = [u for u in seen["requests"] if not u.startswith((server, "data:", "blob:"))]
        assert not elsewhere, f"{page} requests {elsewhere}"


def test_math_is_typeset_and_images_load(desktop):
    for page, (_, measured) in desktop.items():
        assert not measured["untypeset"], f"{page}: raw TeX left: {measured['untypeset'][:3]}"
        for image in measured["images"]:
            assert image["complete"] and image["natural"] > 0, f"{page}: {image['src']} broken"


def test_no_code_or_output_is_cut_off_on_a_desktop(desktop):
    for page, (_, measured) in desktop.items():
        assert not measured["cut"], f"{page}: scrolls sideways: {measured['cut'][:3]}"


def test_no_sideways_scrolling_on_a_phone(phone):
    for page, (_, measured) in phone.items():
        assert measured["pageWidth"] <= measured["viewWidth"], page


def test_pictures_stay_readable_on_a_phone(phone):
    """A figure shrunk to less than half its size has text too small to read (the chapter 1
    graph was once shown at 28%)."""
    for page, (_, measured) in phone.items():
        for image in measured["images"]:
            if image["natural"] > 200:
                scale = image["shown"] / image["natural"]
                assert scale >= 0.5, f"{page}: {image['src']} shown at {scale:.0%}"


def visible_links(browser) -> list[str]:
    return browser.execute_script(
        "return [...document.querySelectorAll('a.reference.internal')]"
        ".filter(a => { const r = a.getBoundingClientRect();"
        " return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; })"
        ".map(a => a.textContent.trim());"
    )


def press_menu(browser):
    buttons = [b for b in browser.find_elements(By.CSS_SELECTOR, ".primary-toggle")]
    shown = [b for b in buttons if b.is_displayed()]
    assert shown, "no visible menu button"
    shown[0].click()
    time.sleep(0.5)  # the sidebar slides in


def test_the_phone_menu_opens_the_chapter_list(browser, server, phone):
    visit(browser, server, "chapters/02_tensors.html", PHONE)
    sidebar = "#pst-primary-sidebar a.reference.internal"
    assert not any(e.is_displayed() for e in browser.find_elements(By.CSS_SELECTOR, sidebar))
    press_menu(browser)
    browser.save_screenshot(str(SCREENSHOTS / "phone-menu-open.png"))
    chapters = [t for t in visible_links(browser) if t[:2] in ("1.", "2.", "3.", "4.")]
    assert len(chapters) >= 4, f"the menu shows {visible_links(browser)}"


def test_the_desktop_menu_button_hides_and_shows_the_sidebar(browser, server, desktop):
    visit(browser, server, "chapters/02_tensors.html", DESKTOP)
    hidden = "return document.querySelector('#pst-primary-sidebar')"
    hidden += ".classList.contains('pst-sidebar-hidden')"
    assert not browser.execute_script(hidden)
    press_menu(browser)
    assert browser.execute_script(hidden)
    press_menu(browser)
    assert not browser.execute_script(hidden)


def test_plots_stay_legible_in_dark_mode(browser, server, desktop):
    """The theme puts a light background behind output images in dark mode, so black text
    on a transparent plot stays readable."""
    visit(browser, server, "chapters/01_backprop_by_hand.html", DESKTOP)
    browser.execute_script("localStorage.setItem('mode', 'dark'); location.reload();")
    WebDriverWait(browser, 10).until(
        lambda b: b.execute_script("return document.documentElement.dataset.theme") == "dark"
    )
    try:
        browser.save_screenshot(str(SCREENSHOTS / "dark-mode.png"))
        backgrounds = browser.execute_script(
            "return [...document.querySelectorAll('.cell_output img')]"
            ".map(i => getComputedStyle(i).backgroundColor);"
        )
        assert backgrounds
        for color in backgrounds:
            red, green, blue = (float(x) for x in re.findall(r"[\d.]+", color)[:3])
            assert 0.2126 * red + 0.7152 * green + 0.0722 * blue > 150, color
    finally:
        browser.execute_script("localStorage.clear();")


def test_search_finds_results_offline(browser, server, desktop):
    browser.set_window_size(*DESKTOP)
    browser.get(f"{server}/search.html?q=stride")
    WebDriverWait(browser, 15).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#search-results li")
    )
    results = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#search-results li")]
    assert any("Tensors" in r for r in results), results
