"""Shared pytest set-up: import tfvae first so TF/TFP load quietly."""

import tfvae  # noqa: F401


def pytest_terminal_summary(terminalreporter):
    """The flow harness's count of checks run and skipped per flow class
    (skips are checks a flow's declared capabilities rule out)."""
    from tests import checks

    if not checks.RESULTS:
        return
    terminalreporter.section("flow checks run / skipped per flow")
    for name, counts in sorted(checks.RESULTS.items()):
        terminalreporter.write_line(f"{name:24s} {counts['run']:4d} run {counts['skipped']:4d} skipped")
