#!/usr/bin/env python3
"""Side by side: the same training workloads in PyTorch (CPU) and in `autoencoder-bench epoch`.

Each workload trains on synthetic MNIST-shaped data (60,000 samples of 784 floats uniform in [0, 1], or 6,000
with --quick and times scaled x10), Adam lr 1e-3, after a warm-up of 20 steps; one epoch is N // batch steps.
The PyTorch models are those of Benchmarks/anchors/torch_vae.py (mlp-vae, conv-vae) and the equivalents of the
library's vq-vae and cae workloads (Benchmarks/EpochBenchmark.swift). Both sides run in this invocation, one
after the other, so they see the same machine load; the ratio is PyTorch time / AutoencoderKit time.

Usage: python3 Benchmarks/torch_side_by_side.py [--quick] [--repeats R] [--device cpu|opencl:N]
       [--torch-threads T] [--bench PATH] [--only mlp-vae:128,conv-vae:128]
"""
import argparse, json, os, statistics, subprocess, sys, time

RUNS = [("mlp-vae", 128), ("mlp-vae", 1024), ("conv-vae", 128), ("vq-vae", 128), ("cae", 128)]


def torch_models(torch):
    nn, F = torch.nn, torch.nn.functional

    class VAE(nn.Module):  # Benchmarks/anchors/torch_vae.py
        def __init__(s, d=784, z=32):
            super().__init__()
            s.encoder = nn.Sequential(nn.Linear(d, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU())
            s.fc_mu = nn.Linear(128, z); s.fc_logvar = nn.Linear(128, z)
            s.decoder = nn.Sequential(nn.Linear(z, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, d), nn.Sigmoid())

        def loss(s, x):
            h = s.encoder(x); mu, lv = s.fc_mu(h), s.fc_logvar(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
            return vae_loss(s.decoder(z), x, mu, lv)

    class ConvVAE(nn.Module):  # Benchmarks/anchors/torch_vae.py
        def __init__(s, z=32):
            super().__init__()
            s.enc = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Flatten(),
                                  nn.Linear(3136, 256), nn.ReLU())
            s.fc_mu = nn.Linear(256, z); s.fc_logvar = nn.Linear(256, z)
            s.dec = nn.Sequential(nn.Linear(z, 256), nn.ReLU(), nn.Linear(256, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
                                  nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Sigmoid())

        def loss(s, x):
            h = s.enc(x.view(-1, 1, 28, 28)); mu, lv = s.fc_mu(h), s.fc_logvar(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
            return vae_loss(s.dec(z).view(-1, 784), x, mu, lv)

    def vae_loss(xh, x, mu, lv):
        rec = F.binary_cross_entropy(xh, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())
        return (rec + kl) / x.shape[0]

    class VQVAE(nn.Module):  # 784-256-128-32, 8 vectors of 4 from 64 codes, β = 0.25, logits + BCE
        def __init__(s, k=64, d=4, z=32, beta=0.25):
            super().__init__()
            s.d, s.beta = d, beta
            s.encoder = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, z))
            s.codebook = nn.Parameter(torch.empty(k, d).uniform_(-1 / k, 1 / k))
            s.decoder = nn.Sequential(nn.Linear(z, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 784))

        def loss(s, x):
            ze = s.encoder(x); flat = ze.reshape(-1, s.d)
            codes = torch.cdist(flat, s.codebook).argmin(1)
            zq = s.codebook[codes].view_as(ze)
            vq = ((zq - ze.detach()) ** 2).sum() + s.beta * ((ze - zq.detach()) ** 2).sum()
            logits = s.decoder(ze + (zq - ze).detach())
            rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            return (rec + vq) / x.shape[0]

    class CAE(nn.Module):  # sigmoid 784→64, linear 64→784, exact penalty λ Σ_j (h_j(1−h_j))² Σ_i W_ji², λ = 0.1
        def __init__(s, z=64, lam=0.1):
            super().__init__()
            s.lam = lam
            s.enc = nn.Linear(784, z); s.dec = nn.Linear(z, 784)

        def loss(s, x):
            h = torch.sigmoid(s.enc(x))
            penalty = ((h * (1 - h)) ** 2 * (s.enc.weight ** 2).sum(1)).sum()
            rec = F.binary_cross_entropy_with_logits(s.dec(h), x, reduction="sum")
            return (rec + s.lam * penalty) / x.shape[0]

    return {"mlp-vae": VAE, "conv-vae": ConvVAE, "vq-vae": VQVAE, "cae": CAE}


def torch_epoch(torch, model_class, X, batch):
    """Seconds of one epoch (N // batch steps) after 20 warm-up steps, as torch_vae.py's eager loop."""
    torch.manual_seed(0)
    model = model_class()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = X.shape[0]

    def run(steps):
        perm = torch.randperm(n)
        for i in range(steps):
            x = X[perm[i * batch:(i + 1) * batch]]
            loss = model.loss(x)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        return float(loss.detach())

    run(20)
    start = time.perf_counter()
    loss = run(n // batch)
    return time.perf_counter() - start, loss


def ours_epoch(bench, device, workload, batch, quick):
    command = [bench, "epoch", "--workload", workload, "--batch-size", str(batch), "--device", device, "--json"]
    if quick:
        command.append("--quick")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6,000-sample epochs, times scaled x10")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each side; medians are printed")
    parser.add_argument("--device", default="cpu", help="device of autoencoder-bench (PyTorch always runs on the CPU)")
    parser.add_argument("--bench", default=os.path.join(here, "..", ".build", "release", "autoencoder-bench"))
    parser.add_argument("--torch-threads", type=int, default=os.cpu_count(), help="PyTorch threads (default: cores)")
    parser.add_argument("--only", help="comma-separated workload:batch pairs, e.g. mlp-vae:128,conv-vae:128")
    args = parser.parse_args()
    runs = [(w, int(b)) for w, b in (p.split(":") for p in args.only.split(","))] if args.only else RUNS
    if not os.path.exists(args.bench):
        sys.exit(f"{args.bench} not found: build it with `swift build -c release --product autoencoder-bench`")

    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not importable: printing AutoencoderKit only (pip install torch)")
    samples = 6000 if args.quick else 60000
    scale = 60000 / samples
    if torch is not None:
        torch.set_num_threads(args.torch_threads)
        torch.manual_seed(0)
        X = torch.rand(samples, 784)
        models = torch_models(torch)
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; autoencoder-bench on {args.device}")

    rows = []
    for workload, batch in runs:
        ours, theirs, loss_t = [], [], float("nan")
        for _ in range(args.repeats):
            if torch is not None:
                seconds, loss_t = torch_epoch(torch, models[workload], X, batch)
                theirs.append(seconds * scale)
            record = ours_epoch(args.bench, args.device, workload, batch, args.quick)
            ours.append(record["seconds_per_epoch"])
        t_ours = statistics.median(ours)
        t_torch = statistics.median(theirs) if theirs else None
        rows.append((workload, batch, t_torch, t_ours, loss_t, record["loss"]))
        ratio = f"{t_torch / t_ours:.2f}" if t_torch else "—"
        print(json.dumps({"workload": workload, "batch_size": batch, "torch_seconds_per_epoch": t_torch,
                          "ours_seconds_per_epoch": t_ours, "torch_over_ours": ratio}), flush=True)

    print("\n| workload | batch | PyTorch s/epoch | AutoencoderKit s/epoch | PyTorch ÷ AutoencoderKit | loss: torch last batch / ours epoch mean |")
    print("|---|---|---|---|---|---|")
    for workload, batch, t_torch, t_ours, loss_t, loss_o in rows:
        torch_cell = f"{t_torch:.3f}" if t_torch else "—"
        ratio = f"{t_torch / t_ours:.2f}×" if t_torch else "—"
        print(f"| {workload} | {batch} | {torch_cell} | {t_ours:.3f} | {ratio} | {loss_t:.1f} / {loss_o:.1f} |")


if __name__ == "__main__":
    main()
