"""Does FID under a domain classifier order models as held-out likelihood does? (Fashion-MNIST)

One budget for every model: MLP encoder 784-512-256, decoder 256-512-784,
latent 16, Bernoulli likelihood on images binarised once with a seed
(x ~ Bernoulli(grey level)), Adam 1e-3, batch 128, `--epochs` epochs.

  vae        the plain VAE, N(0, I) prior;
  flow_prior the same with a RealNVP prior (4 coupling layers), trained jointly;
  mixture    the plain VAE's decoder with a 10-component full-covariance
             Gaussian mixture fitted post hoc to its posterior locations
             encode(x) over the training set (Ghosh et al.'s ex-post density);
  mixture_q  the same mixture fitted to one draw z ~ q(z|x) per training
             image instead: a sample of the aggregate posterior itself;
  flow_q     a RealNVP (6 layers, 10 epochs) fitted to those draws.

Each is scored on held-out data by importance-sampled log p(x) (S =
`--num-samples`, on the first `--test-examples` binarised test images; the
post-hoc models with their fitted density as prior, see
`PostHocSampler.log_likelihood`) and by FID (and KID ± its standard error)
of `--fid-samples` decoder means against the 10000 grey test images, in
the 128-d feature space of a domain classifier trained on the 60000
labelled training images (its test accuracy is printed).

    apt-get download dataset-fashion-mnist && dpkg -x dataset-fashion-mnist_*.deb /tmp/fmnist
    python benchmarks/quality_fmnist.py --data-dir /tmp/fmnist/usr/share/datasets/fashion-mnist
"""

import argparse
import json
import os
import time

import tfvae  # first: it quiets TensorFlow's start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

LATENT = 16


def build(prior, seed):
    return tfvae.VAE(input_shape=(28, 28, 1), latent_dim=LATENT, encoder=tfvae.nets.MLP([512, 256]),
                     decoder=tfvae.nets.MLP([256, 512]), likelihood="bernoulli", prior=prior, seed=seed)


def train(model, x, epochs, seed):
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.perf_counter()
    model.fit(x, epochs=epochs, batch_size=128, shuffle=True, verbose=0)
    return time.perf_counter() - start


def log_likelihood(sampler_or_vae, x, num_samples, seed):
    values = []
    for i in range(0, len(x), 100):
        batch = x[i:i + 100]
        if isinstance(sampler_or_vae, tfvae.evaluation.PostHocSampler):
            values.append(sampler_or_vae.log_likelihood(batch, num_samples=num_samples, seed=seed + i))
        else:
            values.append(np.asarray(sampler_or_vae.log_likelihood(batch, num_samples=num_samples, seed=seed + i)))
    values = np.concatenate(values).astype(np.float64)
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--classifier-epochs", type=int, default=3)
    parser.add_argument("--num-samples", type=int, default=200, help="importance samples S")
    parser.add_argument("--test-examples", type=int, default=2000, help="test images scored for log p(x)")
    parser.add_argument("--fid-samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default="runs/quality_fmnist", help="classifier, models, JSON")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    x_train, y_train = tfvae.data.load_numpy("fashion_mnist", "train", with_labels=True, data_dir=args.data_dir)
    x_test, y_test = tfvae.data.load_numpy("fashion_mnist", "test", with_labels=True, data_dir=args.data_dir)
    rng = np.random.default_rng(args.seed)
    b_train = (rng.random(x_train.shape) < x_train).astype("float32")
    b_test = (rng.random(x_test.shape) < x_test).astype("float32")[:args.test_examples]

    clf_path = os.path.join(args.out_dir, "domain_classifier.keras")
    start = time.perf_counter()
    if os.path.isfile(clf_path):
        clf = keras.models.load_model(clf_path)
    else:
        clf = tfvae.evaluation.train_domain_classifier(x_train, y_train, path=clf_path,
                                                       epochs=args.classifier_epochs, seed=args.seed)
    featurizer = tfvae.evaluation.domain_features(clf)
    print(f"domain classifier: test accuracy {tfvae.evaluation.classifier.accuracy(clf, x_test, y_test):.4f} "
          f"({time.perf_counter() - start:.0f} s)", flush=True)

    vae, flow_vae = build("normal", args.seed), build(
        tfvae.priors.FlowPrior(tfvae.flows.RealNVP(num_layers=4, seed=args.seed)), args.seed)
    seconds = {"vae": train(vae, b_train, args.epochs, args.seed)}
    seconds["flow_prior"] = train(flow_vae, b_train, args.epochs, args.seed)
    vae.save(os.path.join(args.out_dir, "vae.keras"))
    models = {"vae": vae, "flow_prior": flow_vae}
    fits = {"mixture": lambda: tfvae.evaluation.fit_mixture(vae, b_train, num_components=10, seed=args.seed),
            "mixture_q": lambda: tfvae.evaluation.fit_mixture(vae, b_train, num_components=10, seed=args.seed,
                                                              draws=1),
            "flow_q": lambda: tfvae.evaluation.fit_flow(vae, b_train, epochs=10, seed=args.seed, draws=1)}
    for name, fit in fits.items():
        start = time.perf_counter()
        models[name] = fit()
        seconds[name] = seconds["vae"] + time.perf_counter() - start  # the VAE's training plus the fit

    rows = {}
    real = lambda: (x_test[i:i + 500] for i in range(0, len(x_test), 500))  # noqa: E731
    for name, model in models.items():
        ll = log_likelihood(model, b_test, args.num_samples, args.seed)
        quality = tfvae.evaluation.sample_quality(
            featurizer, real(), tfvae.evaluation.model_samples(model, args.fid_samples, 500, seed=args.seed),
            metrics=("fid", "kid"), kid_subset_size=min(1000, args.fid_samples // 2), seed=args.seed)
        rows[name] = {"log_likelihood": float(ll.mean()), "stderr": float(ll.std(ddof=1) / np.sqrt(len(ll))),
                      "per_example": ll, **quality, "train_seconds": seconds[name]}
        print(f"  scored {name}", flush=True)

    print(f"\nFashion-MNIST, {args.epochs} epochs, seed {args.seed}; log p(x): {len(b_test)} binarised test images, "
          f"S = {args.num_samples}; FID/KID: {args.fid_samples} sample means vs 10000 test images\n")
    print(f"  {'model':<11} {'log p(x) (nats)':>18} {'vs vae (paired)':>17} {'FID':>9} {'KID x 100':>15} {'train s':>8}")
    for name, r in rows.items():
        diff = r["per_example"] - rows["vae"]["per_example"]
        paired = f"{diff.mean():+7.2f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.2f}" if name != "vae" else ""
        print(f"  {name:<11} {r['log_likelihood']:9.2f} ± {r['stderr']:5.2f} {paired:>17} {r['fid']:9.3f} "
              f"{100 * r['kid']:7.3f} ± {100 * r['kid_standard_error']:5.3f} {r['train_seconds']:8.0f}")
    by_ll = sorted(rows, key=lambda n: -rows[n]["log_likelihood"])
    by_fid = sorted(rows, key=lambda n: rows[n]["fid"])
    print(f"\n  best to worst by log p(x): {' > '.join(by_ll)}")
    print(f"  best to worst by FID:      {' > '.join(by_fid)}")
    print(f"  orderings agree: {by_ll == by_fid}")
    record = {"args": vars(args), "rows": {n: {k: v for k, v in r.items() if k != "per_example"}
                                           for n, r in rows.items()},
              "by_log_likelihood": by_ll, "by_fid": by_fid}
    with open(os.path.join(args.out_dir, f"quality_seed{args.seed}.json"), "w") as f:
        json.dump(record, f, indent=2)
    return record


if __name__ == "__main__":
    main()
