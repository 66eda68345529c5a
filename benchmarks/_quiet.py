"""Silences a benchmark worker's output; standard library only, so a Python with torch and no TensorFlow can use it."""

import contextlib
import os
import sys


@contextlib.contextmanager
def quiet():
    """stdout and stderr (progress bars, trainer logs) to /dev/null at the fd level."""
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = [os.dup(1), os.dup(2)]
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved + [devnull]:
            os.close(fd)
