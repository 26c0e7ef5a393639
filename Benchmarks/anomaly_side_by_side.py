#!/usr/bin/env python3
"""Side by side: anomaly detection by `autoencoder train` + `autoencoder detect` with their defaults against
PyOD's AutoEncoder and VAE and scikit-learn's IsolationForest with theirs, on the same splits.

Protocols (data bundled with the package, Sources/Autoencoders/Resources):
  breast-cancer  train on 250 benign rows drawn by a seeded shuffle (numpy default_rng(seed)), score the other
                 107 benign and all 212 malignant rows; seeds 0..S-1 (--splits, default 10).
  digits         one-class: train on the training-split images of digit d (about 150 of the 1,500), score the
                 whole 297-image test split (about 30 of digit d, the rest anomalies); d = 0..9.

Every method sees the same training rows and scores the same test rows; ROC-AUC and PR-AUC (average precision)
are computed here with scikit-learn from each method's scores. The CLI side writes each split as files
(CSV with a `malignant` column for breast cancer, IDX images + labels for digits, so they stay images) and runs
  autoencoder train --data TRAIN --normal-label N --test-fraction 0 --seed S --out DIR [--label-column malignant]
  autoencoder detect --run DIR --data TEST --out scores.csv --json
The peers run with their defaults but for the seed: random_state=S (PyOD's default is a fixed 42; both PyOD
models and IsolationForest take the split's seed, as the CLI does). Times are wall seconds per split, training and scoring together (the CLI's
include process start). Needs: pip install pyod scikit-learn torch; a release build:
  swift build -c release --product autoencoder

Usage: python3 Benchmarks/anomaly_side_by_side.py [--cli PATH] [--splits 10] [--only breast-cancer,digits]
       [--methods autoencoderkit,pyod-ae,pyod-vae,iforest] [--keep DIR] [--train-args '...'] [--detect-args '...']
"""
import argparse, gzip, json, os, statistics, struct, subprocess, sys, tempfile, time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESOURCES = os.path.join(ROOT, "Sources", "Autoencoders", "Resources")
METHODS = ["autoencoderkit", "pyod-ae", "pyod-vae", "iforest"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_idx_pair(folder, stem, images, labels):
    """Writes STEM-images-idx3-ubyte and STEM-labels-idx1-ubyte; returns the images path."""
    images_path = os.path.join(folder, f"{stem}-images-idx3-ubyte")
    with open(images_path, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, *images.shape) + images.astype(np.uint8).tobytes())
    with open(os.path.join(folder, f"{stem}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(labels)) + labels.astype(np.uint8).tobytes())
    return images_path


def write_csv(path, header, features, labels):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row, label in zip(features, labels):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")


def breast_cancer_splits(count):
    lines = open(os.path.join(RESOURCES, "wdbc.csv")).read().strip().split("\n")
    header = lines[0].split(",")
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    x, y = table[:, :-1], table[:, -1].astype(int)
    benign = np.flatnonzero(y == 0)
    for seed in range(count):
        order = np.random.default_rng(seed).permutation(benign)
        train = np.sort(order[:250])
        test = np.setdiff1d(np.arange(len(y)), train)
        yield dict(name=f"seed {seed}", seed=seed, header=header, x_train=x[train], x_test=x[test],
                   y_test=(y[test] != 0).astype(int), train_labels=y[train], test_labels=y[test], normal=0)


def digits_splits():
    train_images = read_idx(os.path.join(RESOURCES, "digits-train-images-idx3-ubyte.gz"))
    train_labels = read_idx(os.path.join(RESOURCES, "digits-train-labels-idx1-ubyte.gz"))
    test_images = read_idx(os.path.join(RESOURCES, "digits-test-images-idx3-ubyte.gz"))
    test_labels = read_idx(os.path.join(RESOURCES, "digits-test-labels-idx1-ubyte.gz"))
    for digit in range(10):
        chosen = train_labels == digit
        yield dict(name=f"digit {digit}", seed=digit, images_train=train_images[chosen],
                   images_test=test_images, train_labels=train_labels[chosen], test_labels=test_labels,
                   x_train=train_images[chosen].reshape(chosen.sum(), -1) / 255.0,
                   x_test=test_images.reshape(len(test_images), -1) / 255.0,
                   y_test=(test_labels != digit).astype(int), normal=digit)


def run_cli(cli, protocol, split, folder, train_args=(), detect_args=()):
    """Scores of `train` + `detect` with defaults, read from detect's --out CSV (rows in test-file order)."""
    if protocol == "breast-cancer":
        train = os.path.join(folder, "train.csv")
        test = os.path.join(folder, "test.csv")
        write_csv(train, split["header"], split["x_train"], split["train_labels"])
        write_csv(test, split["header"], split["x_test"], split["test_labels"])
        extra = ["--label-column", split["header"][-1]]
    else:
        train = write_idx_pair(folder, "train", split["images_train"], split["train_labels"])
        test = write_idx_pair(folder, "test", split["images_test"], split["test_labels"])
        extra = []
    run = os.path.join(folder, "run")
    scores_path = os.path.join(folder, "scores.csv")
    command = [cli, "train", "--data", train, "--normal-label", str(split["normal"]), "--test-fraction", "0",
               "--seed", str(split["seed"]), "--out", run, "--json"] + extra + list(train_args)
    subprocess.run(command, check=True, capture_output=True, text=True)
    detect = subprocess.run([cli, "detect", "--run", run, "--data", test, "--out", scores_path, "--json"]
                            + list(detect_args),
                            check=True, capture_output=True, text=True)
    line = json.loads(detect.stdout.strip().split("\n")[-1])
    rows = open(scores_path).read().strip().split("\n")[1:]
    scores = np.array([float(r.split(",")[1]) for r in rows])
    return scores, line


def run_peer(method, split):
    x_train, x_test = split["x_train"], split["x_test"]
    if method == "iforest":
        from sklearn.ensemble import IsolationForest
        model = IsolationForest(random_state=split["seed"]).fit(x_train)
        return -model.score_samples(x_test)
    import torch
    torch.manual_seed(split["seed"])
    np.random.seed(split["seed"])
    if method == "pyod-ae":
        from pyod.models.auto_encoder import AutoEncoder
        model = AutoEncoder(random_state=split["seed"], verbose=0)
    else:
        from pyod.models.vae import VAE
        model = VAE(random_state=split["seed"], verbose=0)
    model.fit(x_train)
    return model.decision_function(x_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", default=os.path.join(ROOT, ".build", "release", "autoencoder"))
    parser.add_argument("--splits", type=int, default=10, help="breast-cancer seeded splits")
    parser.add_argument("--only", default="breast-cancer,digits")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--keep", help="keep the CLI's split files and runs under this folder")
    parser.add_argument("--train-args", default="", help="extra `train` options (to measure a non-default recipe)")
    parser.add_argument("--detect-args", default="", help="extra `detect` options")
    args = parser.parse_args()
    from sklearn.metrics import average_precision_score, roc_auc_score
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        sys.exit(f"unknown method {unknown[0]}: use {', '.join(METHODS)}")
    if "autoencoderkit" in methods and not os.access(args.cli, os.X_OK):
        sys.exit(f"{args.cli}: not built (swift build -c release --product autoencoder)")
    versions = {"numpy": np.__version__}
    import sklearn; versions["scikit-learn"] = sklearn.__version__
    if any(m.startswith("pyod") for m in methods):
        import pyod, torch
        versions["pyod"], versions["torch"] = pyod.__version__, torch.__version__
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)
    base = args.keep or tempfile.mkdtemp(prefix="anomaly-bench-")
    tables = []
    for protocol in args.only.split(","):
        splits = breast_cancer_splits(args.splits) if protocol == "breast-cancer" else digits_splits()
        results = {m: {"roc": [], "pr": [], "seconds": []} for m in methods}
        for split in splits:
            cells = []
            for method in methods:
                started = time.perf_counter()
                if method == "autoencoderkit":
                    folder = os.path.join(base, protocol, split["name"].replace(" ", "-"))
                    os.makedirs(folder, exist_ok=True)
                    scores, _ = run_cli(args.cli, protocol, split, folder, args.train_args.split(), args.detect_args.split())
                else:
                    scores = run_peer(method, split)
                seconds = time.perf_counter() - started
                roc = roc_auc_score(split["y_test"], scores)
                results[method]["roc"].append(roc)
                results[method]["pr"].append(average_precision_score(split["y_test"], scores))
                results[method]["seconds"].append(seconds)
                cells.append(f"{method} {roc:.4f}")
            print(f"{protocol} {split['name']}: " + ", ".join(cells), flush=True)
        tables.append((protocol, results))
    print()
    print("| protocol | method | ROC-AUC mean ± sd | PR-AUC mean ± sd | seconds per split |")
    print("|---|---|---|---|---|")
    for protocol, results in tables:
        for method in methods:
            r = results[method]
            sd = lambda v: statistics.pstdev(v) if len(v) > 1 else 0.0
            print(f"| {protocol} ({len(r['roc'])} splits) | {method} | {statistics.mean(r['roc']):.4f} ± {sd(r['roc']):.4f} "
                  f"| {statistics.mean(r['pr']):.4f} ± {sd(r['pr']):.4f} | {statistics.mean(r['seconds']):.2f} |")


if __name__ == "__main__":
    main()
