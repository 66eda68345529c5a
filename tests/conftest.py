"""Shared pytest set-up: import tfvae first so TF/TFP load quietly, with
XLA's opt-in compile cache on in a directory of this session's own, so that
every function the suite compiles also goes through the cache's write path
(and the subprocesses it starts through its load path)."""

import atexit
import os
import shutil
import tempfile

if "TFVAE_XLA_CACHE" not in os.environ:
    os.environ["TFVAE_XLA_CACHE"] = tempfile.mkdtemp(prefix="tfvae-xla-cache-")
    atexit.register(shutil.rmtree, os.environ["TFVAE_XLA_CACHE"], ignore_errors=True)

import tfvae  # noqa: E402,F401


def pytest_terminal_summary(terminalreporter):
    """The flow harness's count of checks run and skipped per flow class
    (skips are checks a flow's declared capabilities rule out)."""
    from tests import checks

    if not checks.RESULTS:
        return
    terminalreporter.section("flow checks run / skipped per flow")
    for name, counts in sorted(checks.RESULTS.items()):
        terminalreporter.write_line(f"{name:24s} {counts['run']:4d} run {counts['skipped']:4d} skipped")
