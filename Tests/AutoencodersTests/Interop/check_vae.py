"""Reads a model.safetensors written by AutoencoderKit with the `safetensors` package and numpy, checks the
tensor names and shapes of the PyTorch module they map onto, and recomputes the reconstruction of the given
inputs in numpy (decode(mu(x)), sigmoid output) to compare with AutoencoderKit's.

usage: check_vae.py MODEL.safetensors INPUT.npy EXPECTED.npy IN HIDDEN1,HIDDEN2 LATENT"""
import sys
import numpy as np
from safetensors.numpy import load_file

path, x_path, expected_path, d, hidden, z = sys.argv[1:7]
d, z = int(d), int(z)
h1, h2 = (int(v) for v in hidden.split(","))
t = load_file(path)
shapes = {
    "encoder.0.weight": (h1, d), "encoder.0.bias": (h1,), "encoder.2.weight": (h2, h1), "encoder.2.bias": (h2,),
    "fc_mu.weight": (z, h2), "fc_mu.bias": (z,), "fc_logvar.weight": (z, h2), "fc_logvar.bias": (z,),
    "decoder.0.weight": (h2, z), "decoder.0.bias": (h2,), "decoder.2.weight": (h1, h2), "decoder.2.bias": (h1,),
    "decoder.4.weight": (d, h1), "decoder.4.bias": (d,),
}
assert set(t) == set(shapes), f"names differ: {sorted(set(t) ^ set(shapes))}"
for name, shape in shapes.items():
    assert t[name].shape == shape, f"{name}: {t[name].shape} != {shape}"
    assert t[name].dtype == np.float32, f"{name}: {t[name].dtype}"
    assert np.isfinite(t[name]).all(), name

relu = lambda v: np.maximum(v, 0)
lin = lambda v, n: v @ t[n + ".weight"].T.astype(np.float64) + t[n + ".bias"]
x = np.load(x_path).astype(np.float64)
h = relu(lin(relu(lin(x, "encoder.0")), "encoder.2"))
mu = lin(h, "fc_mu")
out = 1 / (1 + np.exp(-lin(relu(lin(relu(lin(mu, "decoder.0")), "decoder.2")), "decoder.4")))
expected = np.load(expected_path)
err = float(np.abs(out - expected).max())
assert err < 1e-4, f"reconstruction differs by {err}"
print(f"ok: {len(t)} tensors, reconstruction of {x.shape[0]} samples agrees to {err:.2e}")
