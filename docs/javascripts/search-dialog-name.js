// The search dialog gets an accessible name (axe-core's aria-dialog-name rule),
// so that screen readers announce "Search": Material's dialog has none,
// Zensical's has one already.
const searchDialog = document.querySelector(".md-search[role=dialog]");
if (searchDialog && !searchDialog.hasAttribute("aria-label")) {
  searchDialog.setAttribute("aria-label", "Search");
}
