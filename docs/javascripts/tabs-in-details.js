// Material links content tabs (Keras | PyTorch) by their label text, read from
// the rendered page, so tab sets inside a closed <details> block are skipped.
// When such a block opens, select in it the tab the reader chose elsewhere.
document.addEventListener(
  "toggle",
  (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open) return;
    const chosen = [...document.querySelectorAll(".tabbed-set")]
      .filter((set) => !details.contains(set) && !set.closest("details:not([open])"))
      .map((set) => set.querySelector(":scope > input:checked"))
      .map((input) => input && document.querySelector(`label[for="${input.id}"]`))
      .find((label) => label);
    if (!chosen) return;
    for (const label of details.querySelectorAll(".tabbed-labels > label")) {
      if (label.textContent.trim() === chosen.textContent.trim()) {
        document.getElementById(label.htmlFor).checked = true;
      }
    }
  },
  true, // toggle does not bubble: listen while it is captured
);
