// Site fixes for the course (added to every page by _ext/course_site.py).

// The theme reads the colour mode before it has one on a first visit and logs "Got invalid
// theme mode"; start from the default ("auto": follow the system) instead.
if (!document.documentElement.dataset.mode) {
  document.documentElement.dataset.mode = document.documentElement.dataset.defaultMode || "auto";
}

// sphinx-book-theme shows its own menu buttons in the article header and hides the navbar's,
// but the theme's scripts wire only the first button of each kind (the hidden one), so the
// visible buttons did nothing: on a phone the chapter list could not be opened.  Make every
// other button press the first one.
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const [first, ...others] = document.querySelectorAll(`.${kind}-toggle`);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        first.click();
      });
    }
  }
});
