"""Fixes for the course website, applied to every page while Sphinx writes it.

- Live code (Thebe) is off in ``_config.yml``, but sphinx-thebe still adds its scripts, and
  they arrive twice: the second copy stops with ``Identifier 'THEBE_JS_URL' has already been
  declared``.  Remove them, and drop any other script that is included twice.
- ``assets/course.js`` and ``assets/course.css`` (the phone menu, the first visit's theme mode,
  wrapped outputs) are added to every page.
"""

from sphinx.application import Sphinx


def _drop_thebe_and_duplicates(app, pagename, templatename, context, doctree):
    kept, seen = [], set()
    for script in context.get("script_files", []):
        filename = str(getattr(script, "filename", script) or "")
        body = getattr(script, "attributes", {}).get("body", "")
        if (
            "THEBE_JS_URL" in body
            or filename.endswith("sphinx-thebe.js")
            or (filename, body) in seen
        ):
            continue
        seen.add((filename, body))
        kept.append(script)
    context["script_files"] = kept


def setup(app: Sphinx) -> dict:
    app.add_css_file("course.css")
    app.add_js_file("course.js")
    app.connect("html-page-context", _drop_thebe_and_duplicates, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
