"""`make test-newest`, in the virtualenv with the newest framework releases:
the fast test suite and both notebook editions, then a summary of what ran
on which versions and what broke (test-output/newest-summary.md, which the
weekly Newest workflow shows as its run's summary). Exits non-zero if
anything failed."""

import argparse
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from importlib import metadata

from tools import PROJECT_DIR

OUTPUT_DIR = PROJECT_DIR / "test-output"
SUMMARY = OUTPUT_DIR / "newest-summary.md"
# What runs: the fast suite, then each notebook edition run through in a
# Jupyter kernel (the exercises filled in with the solutions).
RUNS = {
    "fast suite": ["-m", "not slow"],
    "notebooks": [
        "tests/test_notebooks.py",
        "-m",
        "slow",
        "-k",
        "solution_edition_runs or filled_with_the_solutions",
    ],
}


def pinned_versions():
    """package -> version, as requirements.txt pins it."""
    pins = {}
    for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines():
        requirement = line.split(";")[0].split("#")[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def failures(report):
    """(test, first line of its failure) for each failed or erroring test."""
    found = []
    for case in ElementTree.parse(report).iter("testcase"):
        for problem in [*case.iter("failure"), *case.iter("error")]:
            message = (problem.get("message") or "").strip().splitlines()
            found.append((f"{case.get('classname')}::{case.get('name')}", message[:1]))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="+", help="the unpinned packages")
    packages = parser.parse_args().packages
    OUTPUT_DIR.mkdir(exist_ok=True)
    pins = pinned_versions()
    lines = [
        "# The newest framework releases",
        "",
        "| package | installed | pinned |",
        "| --- | --- | --- |",
        *(
            f"| {name} | {metadata.version(name)} | {pins.get(name, '-')} |"
            for name in packages
        ),
        "",
    ]
    broken = False
    for run, arguments in RUNS.items():
        report = OUTPUT_DIR / f"newest-{run.replace(' ', '-')}.xml"
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", *arguments, f"--junitxml={report}"],
            cwd=PROJECT_DIR,
        )
        failed = failures(report) if report.exists() else [("pytest", ["no report"])]
        broken = broken or completed.returncode != 0
        verdict = "passed" if completed.returncode == 0 else "FAILED"
        lines.append(f"## {run}: {verdict}")
        lines += [f"- `{test}`: {' '.join(message)}" for test, message in failed]
        lines.append("")
    SUMMARY.write_text("\n".join(lines))
    print(SUMMARY.read_text())
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
