"""How late each epoch's first step starts, with tf.data's autotuning model on and off.

    python3 benchmarks/epoch_starts.py                  # about 2 minutes on 2 cores
    python3 benchmarks/epoch_starts.py --data-dir /usr/share/datasets/fashion-mnist

Model: pythae's default MLP VAE (784-512, latent 16, Bernoulli), batch 100,
Adam 1e-3, on `--examples` (55,000) binarised 28x28 images given as a numpy
array (binarised Fashion-MNIST with `--data-dir`, else random binary
images), validating on 5,000 more after each epoch. Two ways in one
process, interleaved `--repeats` times, each a fresh model:

    keras pipeline    `keras.Model.fit(vae, x, ...)`: Keras's own array
                      pipeline as Keras runs it, autotuning model on
    tfvae fit         `vae.fit(x, ...)`: the same pipeline (same batches),
                      autotuning model off (`tfvae.models._inputs`)

Both compile with `steps_per_execution=32` (what tfvae's "auto" picks), so
the timing callback's per-batch hook does not change the step count.
Printed per way, over every epoch after the first of every repeat: the
delay from `on_epoch_begin` to the first `on_train_batch_begin` (median,
max, and how many epochs waited more than 0.3 s) and the epoch's seconds
(median, max). Then `evaluate` on the training array, called
`--evaluate-calls` times each way (`keras.Model.evaluate` against
`vae.evaluate`), seconds per call after the first (median, max).
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from step_profile import BATCH, load, make_vae  # noqa: E402  (the same model and data; quiets TF first)

import keras  # noqa: E402

VALIDATION, STALL = 5000, 0.3


class EpochStart(keras.callbacks.Callback):
    """Seconds from `on_epoch_begin` to the first batch, and per epoch."""

    def __init__(self):
        super().__init__()
        self.delays, self.epochs = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.begin, self.first = time.perf_counter(), None

    def on_train_batch_begin(self, batch, logs=None):
        if self.first is None:
            self.first = time.perf_counter()
            self.delays.append(self.first - self.begin)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(time.perf_counter() - self.begin)


WAYS = {"keras pipeline": (keras.Model.fit, keras.Model.evaluate),
        "tfvae fit": (lambda m, *a, **k: m.fit(*a, **k), lambda m, *a, **k: m.evaluate(*a, **k))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="Fashion-MNIST IDX folder; random binary images if unset")
    parser.add_argument("--examples", type=int, default=55_000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--evaluate-calls", type=int, default=6)
    args = parser.parse_args(argv)
    data = load(args.data_dir, args.examples + VALIDATION)
    x, x_val = data[:args.examples], data[args.examples:]
    starts = {way: EpochStart() for way in WAYS}
    for _ in range(args.repeats):
        for way, (fit, _) in WAYS.items():
            callback = EpochStart()
            fit(make_vae(False, 32), x, batch_size=BATCH, epochs=args.epochs, validation_data=x_val, verbose=0,
                callbacks=[callback])
            starts[way].delays += callback.delays[1:]
            starts[way].epochs += callback.epochs[1:]
    calls = {way: [] for way in WAYS}
    models = {way: make_vae(False, 32) for way in WAYS}
    for i in range(args.evaluate_calls):
        for way, (_, evaluate) in WAYS.items():
            start = time.perf_counter()
            evaluate(models[way], x, batch_size=BATCH, verbose=0)
            if i:
                calls[way].append(time.perf_counter() - start)
    source = "binarised Fashion-MNIST" if args.data_dir else "random binary images"
    print(f"{args.examples} {source} as a numpy array, batch {BATCH}, {args.epochs} epochs x {args.repeats} "
          f"repeats (epochs after the first), steps_per_execution 32\n")
    print(f"{'':16}{'first-step delay, s':>28}{'epochs > ' + str(STALL) + ' s':>16}{'epoch, s':>22}"
          f"{'evaluate, s':>22}")
    print(f"{'':16}{'median':>14}{'max':>14}{'':>16}{'median':>11}{'max':>11}{'median':>11}{'max':>11}")
    for way, s in starts.items():
        stalled = sum(d > STALL for d in s.delays)
        print(f"{way:<16}{statistics.median(s.delays):14.3f}{max(s.delays):14.3f}{f'{stalled} of {len(s.delays)}':>16}"
              f"{statistics.median(s.epochs):11.2f}{max(s.epochs):11.2f}"
              f"{statistics.median(calls[way]):11.2f}{max(calls[way]):11.2f}")


if __name__ == "__main__":
    main()
