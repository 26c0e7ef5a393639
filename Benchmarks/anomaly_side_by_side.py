#!/usr/bin/env python3
"""Side by side: anomaly detection by `autoencoder train --detector` + `autoencoder detect` with their defaults
against PyOD's KNN, ECOD, AutoEncoder, VAE and DIF and scikit-learn's IsolationForest with theirs, on real data sets,
under two protocols, on the same splits.

Data sets (made here, ODDS/ADBench conventions: one class, or a downsampled class, as the anomalies):
  breast-cancer  the bundled WDBC table (Sources/Autoencoders/Resources/wdbc.csv): benign normal, malignant anomalies
  digits         the bundled 8x8 digits (training and test images together): digits 1-9 normal, digit 0 anomalies;
                 the CLI gets them as an (N, 8, 8) uint8 .npy (its image recipe), the peers as pixels / 255
  vowel          mlbench's Vowel (Debian r-cran-mlbench, exported by Rscript): the 10 numeric features; vowel "hid"
                 anomalies, the other ten normal
  letter         mlbench's LetterRecognition: the 16 features; letter A anomalies, the other letters normal
  vehicle        mlbench's Vehicle: the 18 features; class van anomalies, bus, opel and saab normal
  sonar          mlbench's Sonar: the 60 features; rocks (R) normal, mines (M) anomalies
In every set the anomalies are downsampled (numpy default_rng(0)) to at most a ninth of the normal rows (at most
10% of the set) and the normal rows to at most 2,000, so that every method sees the same rows in every run.

Protocols, seeds 0..S-1 (--seeds, default 5), the split drawn by numpy default_rng(seed):
  semi  train on 60% of the normal rows, score the other 40% and every anomaly
  unsup train on 60% of all rows (anomalies included: contaminated), score the other 40%
Every method sees the same training rows and scores the same test rows; ROC-AUC and PR-AUC (average precision)
are computed here with scikit-learn from each method's scores. The CLI side writes each split as files (CSV
without labels; digits as .npy images) and runs
  autoencoder train --data TRAIN --detector --seed S --out DIR
  autoencoder detect --run DIR --data TEST --out scores.csv --json
The peers run with their defaults but for the seed (random_state=S where they take one). Times are wall seconds per
split, training and scoring together (the CLI's include process start). The mean rank of a method is its rank by
mean ROC-AUC among the methods on each data set (1 = best), averaged over the data sets.

Needs: apt-get install r-base-core r-cran-mlbench; pip install pyod scikit-learn torch; a release build:
  swift build -c release --product autoencoder

Usage: python3 Benchmarks/anomaly_side_by_side.py [--cli PATH] [--seeds 5] [--only breast-cancer,digits,...]
       [--protocols semi,unsup] [--methods autoencoderkit,knn,...] [--keep DIR] [--train-args '...']
       [--detect-args '...']
"""
import argparse, csv, gzip, io, json, os, statistics, struct, subprocess, sys, tempfile, time, warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESOURCES = os.path.join(ROOT, "Sources", "Autoencoders", "Resources")
METHODS = ["autoencoderkit", "knn", "iforest", "ecod", "pyod-ae", "pyod-vae", "dif"]
DATASETS = ["breast-cancer", "digits", "vowel", "letter", "vehicle", "sonar"]
PROTOCOLS = ["semi", "unsup"]
# mlbench data set, its class column, the anomaly class (the other classes are normal)
MLBENCH = {"vowel": ("Vowel", "Class", "hid"), "letter": ("LetterRecognition", "lettr", "A"),
           "vehicle": ("Vehicle", "Class", "van"), "sonar": ("Sonar", "Class", "M")}
MAX_NORMAL = 2000


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = struct.unpack(">I", data[:4])[0] & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mlbench(name, class_column):
    """The numeric columns and the class of an mlbench data set, exported by Rscript as CSV."""
    script = (f"library(mlbench); data({name}); d <- {name}; "
              f"keep <- sapply(d, is.numeric); out <- d[, keep, drop=FALSE]; out$class <- as.character(d${class_column}); "
              "write.csv(out, stdout(), row.names=FALSE)")
    text = subprocess.run(["Rscript", "-e", script], check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(text)))
    x = np.array([[float(v) for v in row[:-1]] for row in rows[1:]])
    return x, np.array([row[-1] for row in rows[1:]])


def load(name):
    """(x, anomalous, images): rows, a 0/1 array marking the anomalies, and (N, 8, 8) uint8 images for digits."""
    images = None
    if name == "breast-cancer":
        lines = open(os.path.join(RESOURCES, "wdbc.csv")).read().strip().split("\n")
        table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
        x, anomalous = table[:, :-1], table[:, -1] != 0
    elif name == "digits":
        stems = [("train", "digits-train"), ("test", "digits-test")]
        images = np.concatenate([read_idx(os.path.join(RESOURCES, f"{s}-images-idx3-ubyte.gz")) for _, s in stems])
        labels = np.concatenate([read_idx(os.path.join(RESOURCES, f"{s}-labels-idx1-ubyte.gz")) for _, s in stems])
        x, anomalous = images.reshape(len(images), -1) / 255.0, labels == 0
    else:
        dataset, column, anomaly = MLBENCH[name]
        x, classes = mlbench(dataset, column)
        anomalous = classes == anomaly
    rng = np.random.default_rng(0)
    normal, outliers = np.flatnonzero(~anomalous), np.flatnonzero(anomalous)
    normal = np.sort(rng.permutation(normal)[:MAX_NORMAL])
    outliers = np.sort(rng.permutation(outliers)[:max(1, len(normal) // 9)])
    chosen = np.concatenate([normal, outliers])
    return x[chosen], anomalous[chosen].astype(int), None if images is None else images[chosen]


def splits(data, protocol, seeds):
    x, y, images = data
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        if protocol == "semi":
            normal = rng.permutation(np.flatnonzero(y == 0))
            cut = int(round(0.6 * len(normal)))
            train, test = np.sort(normal[:cut]), np.sort(np.concatenate([normal[cut:], np.flatnonzero(y == 1)]))
        else:
            order = rng.permutation(len(y))
            cut = int(round(0.6 * len(y)))
            train, test = np.sort(order[:cut]), np.sort(order[cut:])
        yield seed, train, test


def write_table(path, x):
    with open(path, "w") as f:
        f.write(",".join(f"f{j}" for j in range(x.shape[1])) + "\n")
        for row in x:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def write_npy_images(path, images):
    np.save(path, images.astype(np.uint8))


def run_cli(cli, data, train, test, seed, folder, train_args=(), detect_args=()):
    """Scores of `train --detector` + `detect` with defaults, read from detect's --out CSV (test rows in order)."""
    x, _, images = data
    if images is not None:
        train_path, test_path = os.path.join(folder, "train.npy"), os.path.join(folder, "test.npy")
        write_npy_images(train_path, images[train])
        write_npy_images(test_path, images[test])
    else:
        train_path, test_path = os.path.join(folder, "train.csv"), os.path.join(folder, "test.csv")
        write_table(train_path, x[train])
        write_table(test_path, x[test])
    run, scores_path = os.path.join(folder, "run"), os.path.join(folder, "scores.csv")
    subprocess.run([cli, "train", "--data", train_path, "--detector", "--seed", str(seed), "--out", run, "--json"]
                   + list(train_args), check=True, capture_output=True, text=True)
    subprocess.run([cli, "detect", "--run", run, "--data", test_path, "--out", scores_path, "--json"] + list(detect_args),
                   check=True, capture_output=True, text=True)
    rows = open(scores_path).read().strip().split("\n")[1:]
    return np.array([float(r.split(",")[1]) for r in rows])


def run_peer(method, x_train, x_test, seed):
    if method == "iforest":
        from sklearn.ensemble import IsolationForest
        return -IsolationForest(random_state=seed).fit(x_train).score_samples(x_test)
    if method == "knn":
        from pyod.models.knn import KNN
        model = KNN()
    elif method == "ecod":
        from pyod.models.ecod import ECOD
        model = ECOD()
    else:
        import torch
        torch.manual_seed(seed)
        np.random.seed(seed)
        if method == "pyod-ae":
            from pyod.models.auto_encoder import AutoEncoder
            model = AutoEncoder(random_state=seed, verbose=0)
        elif method == "pyod-vae":
            from pyod.models.vae import VAE
            model = VAE(random_state=seed, verbose=0)
        else:
            from pyod.models.dif import DIF
            model = DIF(random_state=seed)
    model.fit(x_train)
    return model.decision_function(x_test)


def main():
    # the peers' libraries warn about their own settings (pinned memory without a GPU, max_samples on small sets)
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", default=os.path.join(ROOT, ".build", "release", "autoencoder"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", default=",".join(DATASETS))
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--keep", help="keep the CLI's split files and runs under this folder")
    parser.add_argument("--train-args", default="", help="extra `train` options (to measure a non-default recipe)")
    parser.add_argument("--detect-args", default="", help="extra `detect` options")
    args = parser.parse_args()
    from sklearn.metrics import average_precision_score, roc_auc_score
    methods, datasets, protocols = args.methods.split(","), args.only.split(","), args.protocols.split(",")
    for chosen, known, what in [(methods, METHODS, "method"), (datasets, DATASETS, "data set"), (protocols, PROTOCOLS, "protocol")]:
        unknown = [c for c in chosen if c not in known]
        if unknown:
            sys.exit(f"unknown {what} {unknown[0]}: use {', '.join(known)}")
    if "autoencoderkit" in methods and not os.access(args.cli, os.X_OK):
        sys.exit(f"{args.cli}: not built (swift build -c release --product autoencoder)")
    import sklearn
    versions = {"numpy": np.__version__, "scikit-learn": sklearn.__version__}
    if any(m not in ("autoencoderkit", "iforest") for m in methods):
        import pyod, torch
        versions["pyod"], versions["torch"] = pyod.__version__, torch.__version__
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)
    base = args.keep or tempfile.mkdtemp(prefix="anomaly-bench-")
    # results[protocol][dataset][method] = {"roc": [...], "pr": [...], "seconds": [...]}
    results = {p: {} for p in protocols}
    for name in datasets:
        data = load(name)
        x, y, _ = data
        print(f"{name}: {len(y)} rows of {x.shape[1]} features, {int(y.sum())} anomalies", flush=True)
        for protocol in protocols:
            cells = results[protocol].setdefault(name, {m: {"roc": [], "pr": [], "seconds": []} for m in methods})
            for seed, train, test in splits(data, protocol, args.seeds):
                line = []
                for method in methods:
                    started = time.perf_counter()
                    if method == "autoencoderkit":
                        folder = os.path.join(base, protocol, name, f"seed-{seed}")
                        os.makedirs(folder, exist_ok=True)
                        scores = run_cli(args.cli, data, train, test, seed, folder, args.train_args.split(),
                                         args.detect_args.split())
                    else:
                        scores = run_peer(method, x[train], x[test], seed)
                    cells[method]["seconds"].append(time.perf_counter() - started)
                    roc = roc_auc_score(y[test], scores)
                    cells[method]["roc"].append(roc)
                    cells[method]["pr"].append(average_precision_score(y[test], scores))
                    line.append(f"{method} {roc:.4f}")
                print(f"  {protocol} seed {seed}: " + ", ".join(line), flush=True)

    sd = lambda v: statistics.pstdev(v) if len(v) > 1 else 0.0
    for protocol in protocols:
        print(f"\n{protocol}: ROC-AUC mean ± sd over {args.seeds} seeds (PR-AUC below), rank by mean ROC-AUC per data set")
        ranks = {m: [] for m in methods}
        print("| data set | " + " | ".join(methods) + " |")
        print("|---|" + "---|" * len(methods))
        for name, cells in results[protocol].items():
            means = {m: statistics.mean(cells[m]["roc"]) for m in methods}
            order = sorted(methods, key=lambda m: -means[m])
            for m in methods:
                ranks[m].append(1 + order.index(m))
            print(f"| {name} | " + " | ".join(f"{means[m]:.3f} ± {sd(cells[m]['roc']):.3f}" for m in methods) + " |")
        print("| PR-AUC, mean over sets | " + " | ".join(
            f"{statistics.mean(statistics.mean(c[m]['pr']) for c in results[protocol].values()):.3f}" for m in methods) + " |")
        print("| ROC-AUC, mean over sets | " + " | ".join(
            f"{statistics.mean(statistics.mean(c[m]['roc']) for c in results[protocol].values()):.3f}" for m in methods) + " |")
        print("| mean rank | " + " | ".join(f"{statistics.mean(ranks[m]):.2f}" for m in methods) + " |")
        print("| seconds per split | " + " | ".join(
            f"{statistics.mean(statistics.mean(c[m]['seconds']) for c in results[protocol].values()):.2f}" for m in methods) + " |")


if __name__ == "__main__":
    main()
