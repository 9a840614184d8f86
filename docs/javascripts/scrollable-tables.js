// A wide table scrolls sideways inside its wrapper; keyboard users can scroll
// it only if the wrapper can take the focus (WCAG 2.1.1, axe's
// scrollable-region-focusable). Material creates the wrappers in its own
// script: document$ (Material's, for extra JavaScript) fires once they exist.
document$.subscribe(() => {
  document.querySelectorAll(".md-typeset__scrollwrap").forEach((wrapper) => {
    wrapper.tabIndex = 0;
  });
});
