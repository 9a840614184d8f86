// The notebooks' pages would load MathJax from a CDN by default. The course's
// notebooks contain no mathematics, and the site fetches nothing from other
// hosts, so mkdocs-jupyter is pointed at this empty file instead.
