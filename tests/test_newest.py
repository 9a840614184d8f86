"""The summary of `make test-newest` (tools/newest.py): what it reads of the
requirements and of pytest's reports."""

from tools import newest


def test_the_summary_names_each_failed_test_and_its_first_line(tmp_path):
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_a" name="test_right"/>'
        '<testcase classname="tests.test_a" name="test_wrong">'
        '<failure message="assert 1 == 2&#10;more">details</failure></testcase>'
        '<testcase classname="tests.test_b" name="test_broken">'
        '<error message="ImportError: no module keras">details</error></testcase>'
        "</testsuite></testsuites>"
    )
    assert newest.failures(report) == [
        ("tests.test_a::test_wrong", ["assert 1 == 2"]),
        ("tests.test_b::test_broken", ["ImportError: no module keras"]),
    ]


def test_the_pinned_versions_are_the_requirements_pins():
    pins = newest.pinned_versions()
    requirements = (newest.PROJECT_DIR / "requirements.txt").read_text()
    for package in ("keras", "torch", "jax"):
        assert f"\n{package}=={pins[package]}" in requirements, package
    # Both TensorFlow lines (by platform) pin the same release.
    assert pins["tensorflow-cpu"] == pins["tensorflow"]
