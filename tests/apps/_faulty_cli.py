"""Runs the `tfvae` command line with a fault injected, for the kill tests.

    FAULT=h5:2 python tests/apps/_faulty_cli.py train --backup-dir ... ...

`FAULT=kind:n` stops the process at the n-th (1-based) event of a kind,
prints `FAULT kind n <detail>` on stdout and sleeps, so that the test can
SIGKILL it exactly there:

- `h5`: inside the n-th HDF5 file written (backup and checkpoint weights),
  after its third dataset: the kill lands in the middle of the write;
- `fsync`: at the n-th `os.fsync`, i.e. when a crash-safe write has
  completed its temporary file and is about to rename it into place (every
  backup, checkpoint, model.keras, JSON and PNG file goes through one);
- `batch`: after the n-th training batch (anywhere in an epoch).

Without `FAULT` it is the plain command line.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import tfvae  # noqa: E402,F401  (quiet TensorFlow first)

import h5py  # noqa: E402
import keras  # noqa: E402

from apps import cli  # noqa: E402

KIND, _, N = os.environ.get("FAULT", ":0").partition(":")
N = int(N or 0)
COUNTS = {"h5": 0, "fsync": 0, "batch": 0, "datasets": 0}


def stop(kind, detail):
    print(f"FAULT {kind} {COUNTS[kind]} {detail}", flush=True)
    time.sleep(600)  # the test kills the process here


def install():
    if KIND == "h5":
        file_init, create_dataset = h5py.File.__init__, h5py.Group.create_dataset

        def counting_init(self, name, mode="r", *args, **kwargs):
            if mode == "w":
                COUNTS["h5"] += 1
                COUNTS["datasets"] = 0
            file_init(self, name, mode, *args, **kwargs)

        def slow_create(self, *args, **kwargs):
            out = create_dataset(self, *args, **kwargs)
            COUNTS["datasets"] += 1
            if COUNTS["h5"] == N and COUNTS["datasets"] == 3:
                self.file.flush()  # a partial file on disk, as a slow disk would leave it
                stop("h5", self.file.filename)
            return out

        h5py.File.__init__, h5py.Group.create_dataset = counting_init, slow_create
    elif KIND == "fsync":
        fsync = os.fsync

        def stopping_fsync(fd):
            fsync(fd)
            COUNTS["fsync"] += 1
            if COUNTS["fsync"] == N:
                stop("fsync", os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else fd)

        os.fsync = stopping_fsync
    elif KIND == "batch":
        batch_end = keras.callbacks.CallbackList.on_train_batch_end

        def stopping_batch_end(self, batch, logs=None):
            batch_end(self, batch, logs)
            COUNTS["batch"] += 1
            if COUNTS["batch"] == N:
                stop("batch", batch)

        keras.callbacks.CallbackList.on_train_batch_end = stopping_batch_end


if __name__ == "__main__":
    install()
    sys.exit(cli.main(sys.argv[1:]))
