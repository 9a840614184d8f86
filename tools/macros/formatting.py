"""Every formatting helper of the pages, in one place.

Plain functions of numbers, measures and runs; the other topics build their
tables and sentences with them. `percent`, `milliseconds`, `megabytes` and
`thousands` are also the pages' filters (`{{ value | percent }}`).
"""

from tools.course import KERAS_BACKENDS


def percent(fraction, digits=2):
    """0.98261 -> '98.26%'."""
    return f"{fraction:.{digits}%}"


def milliseconds(seconds):
    """0.000123 -> '0.123 ms', 0.0456 -> '45.6 ms', 1.5 -> '1.50 s'."""
    value = seconds * 1e3
    if value < 1:
        return f"{value:.3f} ms"
    return f"{value:.3g} ms" if value < 1000 else f"{seconds:.2f} s"


def megabytes(size):
    """1629268 -> '1.63 MB'."""
    return f"{size / 1e6:.2f} MB"


def thousands(number):
    """407050 -> '407,050'."""
    return f"{number:,}"


FILTERS = (percent, milliseconds, megabytes, thousands)


def points(fraction, digits=2):
    """0.0012 -> '0.12' (percentage points)."""
    return f"{fraction * 100:.{digits}f}"


def steps_text(value):
    """2.18 -> '2.2', 153.7 -> '154', 202033 -> '2.0 × 10⁵'."""
    if value < 10:
        return f"{value:.1f}"
    if value < 10_000:
        return f"{value:.0f}"
    mantissa, exponent = f"{value:.1e}".split("e")
    superscript = str(int(exponent)).translate(
        str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
    )
    return f"{mantissa} × 10{superscript}"


def backend_list(backends, between=", ", last=" and "):
    """['tensorflow', 'jax'] -> 'TensorFlow and JAX'."""
    names = [KERAS_BACKENDS[backend] for backend in backends]
    return last.join([between.join(names[:-1]), names[-1]]) if names[1:] else names[0]


def seconds(measure):
    """A time measure: '0.54 s (0.52 – 0.60)', median (fastest – slowest)."""
    return f"{measure['median']:.2f} s ({measure['min']:.2f} – {measure['max']:.2f})"


def time_against(measure, baseline):
    """A time against another, in words: how many times as long, and whether
    the spreads of the repeats (fastest to slowest) keep them apart."""
    ratio = measure["median"] / baseline["median"]
    if measure["max"] < baseline["min"] or baseline["max"] < measure["min"]:
        return f"{ratio:.2f} times as long, spreads apart"
    return f"{ratio:.2f} times as long, spreads overlap: no difference shown"


def versus(new, old, old_name):
    """new against old (two results with an `epoch` measure), in words: how
    many times faster or slower, and only where the spreads of the repeats do
    not overlap."""
    a, b = new["epoch"], old["epoch"]
    text = f"{a['median']:.2f} s against {b['median']:.2f} s {old_name}"
    if a["max"] < b["min"]:
        return f"{text}: {b['median'] / a['median']:.1f}x faster"
    if b["max"] < a["min"]:
        return f"{text}: {a['median'] / b['median']:.1f}x slower"
    return f"{text}: the spreads of the repeats overlap, no difference shown"


def device_name(metrics):
    """Where a run computed, as a sentence part: 'the CPU (Intel Xeon, 1 core)'."""
    device = metrics["device"]
    machine = metrics["machine"]
    if device.startswith("cpu"):
        cores = machine.get("cores_used", machine["cpu_count"])
        return f"the CPU ({machine['cpu']}, {cores} core{'s' * (cores != 1)})"
    return f"the {device.split(':')[0].upper()} device {device}"


def table(header, alignments, rows):
    """A Markdown table: the header's cells, one alignment per column
    ("---" or "---:") and the rows' cells; an empty cell stays empty."""

    def line(cells):
        return (
            "|" + "|".join(f" {cell} " if cell != "" else " " for cell in cells) + "|"
        )

    return "\n".join([line(header), line(alignments), *map(line, rows)])


def indent(text, width=4, first=False):
    """Jinja's `indent` filter, for a block that a macro places inside an
    indented one: every line but the first (unless `first`) and the empty
    ones gets `width` spaces."""
    lines = (text + "\n").splitlines()
    indented = lines[0]
    if lines[1:]:
        indented += "\n" + "\n".join(
            " " * width + line if line else line for line in lines[1:]
        )
    return " " * width * first + indented
