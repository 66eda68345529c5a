"""Running `_train.py` in fresh processes (this checkout's tfvae on the path)."""

import json
import os
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_train.py")


def env(**extra):
    e = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    e.update(extra)
    return e


def start(cfg, **extra_env):
    return subprocess.Popen([sys.executable, SCRIPT, json.dumps(cfg)], env=env(**extra_env), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc, timeout):
    """Waits for `proc`; kills it (no hung test) after `timeout` seconds."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"training process timed out after {timeout} s:\n{out[-4000:]}") from None
    return proc.returncode, out


def run(cfg, timeout=240, expect=0, **extra_env):
    code, out = finish(start(cfg, **extra_env), timeout)
    assert code == expect, f"exit code {code} (expected {expect}):\n{out[-4000:]}"
    return out


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def max_diff(a, b):
    return max(float(abs(x - y).max()) for x, y in zip(a, b))
