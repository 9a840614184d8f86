"""The look of every figure on the site: one style, in both colour schemes.

Each figure is drawn twice, NAME-light.svg and NAME-dark.svg, one for each of
the site's colour schemes; the page shows the one that matches.
"""

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402

# Each colour as (light scheme, dark scheme). Okabe-Ito colours: told apart
# with any colour vision, on light and dark pages.
COLOURS = {
    "text": ("#1f2328", "#e6edf3"),
    "grid": ("#d0d7de", "#484f58"),
    "keras": ("#0072b2", "#56b4e9"),
    "pytorch": ("#d55e00", "#e69f00"),
    "wrong": ("#d55e00", "#e69f00"),
    "digits": ("gray_r", "gray"),  # dark ink on a light page, light on a dark one
    "series": (
        ["#000000", "#0072b2", "#d55e00", "#009e73", "#cc79a7"],
        ["#ffffff", "#56b4e9", "#e69f00", "#009e73", "#cc79a7"],
    ),
}
THEMES = {
    theme: {name: pair[index] for name, pair in COLOURS.items()}
    for index, theme in enumerate(("light", "dark"))
}


def theme_style(theme):
    colors = THEMES[theme]
    return {
        "figure.facecolor": "none",
        "axes.facecolor": "none",
        "savefig.transparent": True,
        "text.color": colors["text"],
        "axes.labelcolor": colors["text"],
        "axes.edgecolor": colors["grid"],
        "xtick.color": colors["text"],
        "ytick.color": colors["text"],
        "grid.color": colors["grid"],
        "legend.frameon": False,
        "font.size": 10,
        # Same input, same bytes: fixed ids and no date in the SVG files.
        "svg.hashsalt": "keras-vs-pytorch-lab",
    }


def save(figure, folder, name, theme):
    figure.savefig(
        folder / f"{name}-{theme}.svg", bbox_inches="tight", metadata={"Date": None}
    )
    plt.close(figure)


def draw_in_both_themes(folder, draw):
    """Call draw(theme) in each theme; it returns {name: figure}; save them all."""
    folder.mkdir(exist_ok=True)
    for theme in THEMES:
        with plt.style.context(theme_style(theme)):
            for name, figure in draw(theme).items():
                save(figure, folder, name, theme)
