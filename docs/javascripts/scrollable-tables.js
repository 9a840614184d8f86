// A wide table scrolls sideways inside its wrapper; keyboard users can scroll
// it only if the wrapper can take the focus (WCAG 2.1.1, axe's
// scrollable-region-focusable). Whether it scrolls depends on the window's
// width, which can change: every wrapper takes the focus.
document.querySelectorAll(".md-typeset__scrollwrap").forEach((wrapper) => {
  wrapper.tabIndex = 0;
});
