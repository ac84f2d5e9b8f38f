"""Torch models that compress frame features into a small latent space, and their training loop.

- :class:`DenseAutoencoder`: a multilayer perceptron encoder/decoder on feature vectors (mean squared error);
- :class:`ContactMapVAE`: a convolutional variational autoencoder on contact maps (binary cross-entropy + KL),
  after DeepDriveMD's CVAE (Bhowmik et al. 2018): stacked 3×3 convolutions, one dense layer, a Gaussian latent.

Both expose ``loss(x)`` (a scalar to minimise) and ``encode(x)`` (the latent mean, deterministic).
"""
import copy

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ContactMapVAE", "DenseAutoencoder", "encode", "train_autoencoder"]


def elu_layers(sizes):
    """``Linear + ELU`` between each pair of consecutive widths in ``sizes`` (a list of layers for
    ``nn.Sequential``; empty for a single width)."""
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ELU()]
    return layers


class DenseAutoencoder(nn.Module):
    """``n_features → hidden… → latent_dim → …hidden → n_features`` with ELU activations.

    Examples
    --------
    >>> import torch
    >>> ae = DenseAutoencoder(10, latent_dim=2, hidden=(8,))
    >>> ae.encode(torch.zeros(5, 10)).shape
    torch.Size([5, 2])
    """

    def __init__(self, n_features, latent_dim=3, hidden=(128, 32)):
        super().__init__()
        sizes = [int(n_features), *map(int, hidden)]
        self.encoder = nn.Sequential(*elu_layers(sizes), nn.Linear(sizes[-1], latent_dim))
        back = [latent_dim, *sizes[::-1]]
        self.decoder = nn.Sequential(*elu_layers(back[:-1]), nn.Linear(back[-2], back[-1]))

    def encode(self, x):
        return self.encoder(x)

    def loss(self, x, target=None):
        """Mean squared error of the reconstruction of ``target`` (default ``x``: a plain autoencoder; the
        frame a lag later: a time-lagged autoencoder)."""
        return F.mse_loss(self.decoder(self.encoder(x)), x if target is None else target)


class ContactMapVAE(nn.Module):
    """Convolutional VAE on ``(n, n)`` contact maps.

    Encoder: ``len(strides)`` 3×3 convolutions of ``filters`` channels (ReLU; the given strides shrink the
    map), a dense layer of ``dense`` units, then the latent mean and log-variance. Decoder: dense layers back
    to the shrunk grid, bilinear upsampling to ``n × n`` and the same number of convolutions, ending in one
    channel of logits. Loss: binary cross-entropy per map plus ``beta`` × KL divergence to N(0, 1).

    Examples
    --------
    >>> import torch
    >>> vae = ContactMapVAE(12, latent_dim=3, filters=4)
    >>> vae.encode(torch.zeros(2, 12, 12)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n, latent_dim=10, filters=32, strides=(1, 2, 2, 1), dense=128, beta=1.0):
        super().__init__()
        self.n = int(n)
        self.beta = float(beta)
        convs, ch, m = [], 1, self.n
        for s in strides:
            convs += [nn.Conv2d(ch, filters, 3, stride=s, padding=1), nn.ReLU()]
            ch, m = filters, (m - 1) // s + 1
        self.m, self.filters = m, filters
        self.conv = nn.Sequential(*convs)
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(filters * m * m, dense), nn.ReLU())
        self.mu = nn.Linear(dense, latent_dim)
        self.logvar = nn.Linear(dense, latent_dim)
        self.expand = nn.Sequential(nn.Linear(latent_dim, dense), nn.ReLU(), nn.Linear(dense, filters * m * m),
                                    nn.ReLU())
        deconvs = []
        for _ in strides[:-1]:
            deconvs += [nn.Conv2d(filters, filters, 3, padding=1), nn.ReLU()]
        deconvs.append(nn.Conv2d(filters, 1, 3, padding=1))
        self.deconv = nn.Sequential(*deconvs)

    def _stats(self, x):
        h = self.dense(self.conv(x.unsqueeze(1)))
        return self.mu(h), self.logvar(h)

    def encode(self, x):
        return self._stats(x)[0]

    def decode_logits(self, z):
        h = self.expand(z).view(-1, self.filters, self.m, self.m)
        h = F.interpolate(h, size=(self.n, self.n), mode="bilinear", align_corners=False)
        return self.deconv(h).squeeze(1)

    def loss(self, x, target=None):
        if target is not None:
            raise ValueError("the contact-map VAE reconstructs its own input: no time-lagged target")
        mu, logvar = self._stats(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.decode_logits(z)
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
        return bce + self.beta * kl


def train_autoencoder(model, x, epochs=50, batch_size=256, learning_rate=1e-3, patience=5,
                      validation_fraction=0.1, seed=0, target=None):
    """Train ``model`` with Adam on ``x`` (array, float32), keeping the weights of the best validation loss.

    With ``target`` (same length as ``x``) the model learns to reconstruct ``target[i]`` from ``x[i]``.

    A random ``validation_fraction`` of the rows is held out; training stops after ``patience`` epochs
    without a better validation loss (``patience=None``: run all ``epochs``). Returns the history
    ``{"train": [...], "validation": [...], "best_epoch": int}``. Randomness (initialisation is the caller's;
    shuffling, VAE sampling) is seeded by ``seed`` without touching torch's global generator.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    >>> hist = train_autoencoder(DenseAutoencoder(6, 2, (8,)), x, epochs=3, patience=None)
    >>> len(hist["train"])
    3
    """
    rng = np.random.default_rng(seed)
    n = len(x)
    n_val = int(round(validation_fraction * n)) if n >= 10 else 0
    order = rng.permutation(n)
    y = x if target is None else target
    val = torch.from_numpy(np.ascontiguousarray(x[order[:n_val]]))
    train = torch.from_numpy(np.ascontiguousarray(x[order[n_val:]]))
    val_y = None if target is None else torch.from_numpy(np.ascontiguousarray(y[order[:n_val]]))
    train_y = None if target is None else torch.from_numpy(np.ascontiguousarray(y[order[n_val:]]))
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
    history = {"train": [], "validation": [], "best_epoch": 0}
    best, best_state, waited = np.inf, None, 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(rng.integers(2**31)))
        for epoch in range(int(epochs)):
            model.train()
            perm = torch.from_numpy(rng.permutation(len(train)))
            total = 0.0
            for s in range(0, len(train), batch_size):
                idx = perm[s:s + batch_size]
                xb = train[idx]
                opt.zero_grad()
                loss = model.loss(xb) if train_y is None else model.loss(xb, train_y[idx])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(xb)
            history["train"].append(total / len(train))
            model.eval()
            with torch.no_grad():
                v = (float(model.loss(val) if val_y is None else model.loss(val, val_y)) if n_val
                     else history["train"][-1])
            history["validation"].append(v)
            if v < best - 1e-6 * abs(best if np.isfinite(best) else 0.0):
                best, best_state, waited = v, copy.deepcopy(model.state_dict()), 0
                history["best_epoch"] = epoch
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def encode(model, x, batch_size=4096):
    """Latent vectors (float64, ``(n, latent_dim)``) of ``x`` in batches, without gradients."""
    out = []
    with torch.no_grad():
        for s in range(0, len(x), batch_size):
            out.append(model.encode(torch.from_numpy(np.ascontiguousarray(x[s:s + batch_size]))).double().numpy())
    return np.concatenate(out) if out else np.empty((0, 0))
