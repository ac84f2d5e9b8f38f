"""VAMPnet encoder: a dense network trained to maximise the VAMP-2 score of time-lagged frame pairs.

After Mardt, Pasquali, Wu & Noé, "VAMPnets for deep learning of molecular kinetics", Nat. Commun. 9, 5 (2018),
and the variational approach for Markov processes (VAMP; Wu & Noé, J. Nonlinear Sci. 30, 23 (2020)). For
features ``f`` of the frames at times t and t + τ, with mean-free covariances ``C00``, ``C11`` (instantaneous,
lagged) and ``C01`` (cross), the VAMP-2 score is ``1 + ||C00^{-1/2} C01 C11^{-1/2}||_F²`` (the 1 is the constant
function): the sum of squared singular values of the Koopman operator restricted to ``f``. It is a variational
bound, so a higher score on held-out pairs is a better model of the slow dynamics. Linear features give tICA /
linear VAMP; a network gives its nonlinear generalisation.

Here the network's output is ``W x + b + MLP(x)``: the linear part starts at the linear VAMP solution of the
training pairs and the MLP's last layer starts at zero, so training starts from the linear (tICA-like) optimum
and, with the weights of the best validation score kept (the starting point included), ends at least as good on
the validation pairs. The latent coordinates are the network's VAMP singular functions in the kinetic-map
scaling (each whitened singular function times its singular value, as tICA's kinetic map: Noé & Clementi,
J. Chem. Theory Comput. 11, 5002 (2015)), so Euclidean distances in the latent space weigh slow processes most.
"""
import copy

import numpy as np
import torch
from torch import nn

from .autoencoders import elu_layers

__all__ = ["VAMPNet", "linear_vamp", "train_vampnet", "vamp2_score"]


def _inv_sqrt(c, eps):
    """Symmetric inverse square root of a covariance, eigenvalues below ``eps`` × the largest dropped."""
    w, v = np.linalg.eigh((c + c.T) / 2)
    keep = w > eps * max(w.max(), 0.0)
    return (v[:, keep] / np.sqrt(w[keep])) @ v[:, keep].T, v[:, keep] / np.sqrt(w[keep])


def _covariances(x0, x1):
    x0, x1 = np.asarray(x0, np.float64), np.asarray(x1, np.float64)
    m0, m1 = x0.mean(axis=0), x1.mean(axis=0)
    a, b = x0 - m0, x1 - m1
    n = len(x0)
    return m0, m1, a.T @ a / n, b.T @ b / n, a.T @ b / n


def vamp2_score(x0, x1, eps=1e-10):
    """VAMP-2 score ``1 + ||C00^{-1/2} C01 C11^{-1/2}||_F²`` of features of lagged frame pairs (NumPy, float64).

    ``x0[i]`` and ``x1[i]`` are the features of a frame and of the frame a lag later, shape ``(n, d)``.
    Directions whose variance is below ``eps`` × the largest are dropped. Between 1 (no memory) and
    ``d + 1`` (d perfectly slow functions).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.cumsum(np.random.default_rng(0).normal(size=(5000, 1)), axis=0) * 0.01 % 1.0
    >>> 1.0 < vamp2_score(x[:-1], x[1:]) <= 2.0
    True
    """
    x0, x1 = np.asarray(x0, np.float64), np.asarray(x1, np.float64)
    if x0.ndim != 2 or x0.shape != x1.shape or len(x0) < 2:
        raise ValueError(f"x0 and x1 must be (n, d) arrays of the same shape with n >= 2, got {x0.shape} and "
                         f"{x1.shape}")
    _, _, c00, c11, c01 = _covariances(x0, x1)
    k = _inv_sqrt(c00, eps)[0] @ c01 @ _inv_sqrt(c11, eps)[0]
    return 1.0 + float(np.sum(k**2))


def _torch_vamp2(y0, y1, eps):
    """Differentiable VAMP-2 score of a batch of network outputs (float64 inside)."""
    y0, y1 = y0.double(), y1.double()
    a, b = y0 - y0.mean(0), y1 - y1.mean(0)
    n = len(a)
    eye = torch.eye(a.shape[1], dtype=a.dtype)
    # any square root of the covariances gives the same score: Cholesky factors have a stable gradient
    l0 = torch.linalg.cholesky(a.T @ a / n + eps * eye)
    l1 = torch.linalg.cholesky(b.T @ b / n + eps * eye)
    k = torch.linalg.solve_triangular(l0, a.T @ b / n, upper=False)
    k = torch.linalg.solve_triangular(l1, k.T, upper=False)
    return 1.0 + (k**2).sum()


def linear_vamp(x0, x1, dim, eps=1e-6):
    """Linear VAMP (the non-reversible form of tICA) of lagged pairs: ``(mean, W, s)`` such that
    ``(x - mean) @ W`` are the ``dim`` leading whitened left singular functions, ``s`` their singular values.

    Input directions with variance below ``eps`` × the largest are dropped (collinear features such as the
    sorted distances of a planar cluster).
    """
    m0, _, c00, c11, c01 = _covariances(x0, x1)
    _, w0 = _inv_sqrt(c00, eps)   # (d, r): x @ w0 is whitened
    _, w1 = _inv_sqrt(c11, eps)
    u, s, _ = np.linalg.svd(w0.T @ c01 @ w1, full_matrices=False)
    dim = min(int(dim), len(s))
    return m0, w0 @ u[:, :dim], s[:dim]


class VAMPNet(nn.Module):
    """``x → W x + b + MLP(x)`` (``n_features → hidden… → n_out``, ELU), then a fixed projection on its VAMP
    singular functions (see :meth:`set_projection`); ``encode`` returns the projected coordinates.

    Examples
    --------
    >>> import torch
    >>> net = VAMPNet(10, n_out=2, hidden=(8,))
    >>> net.encode(torch.zeros(5, 10)).shape
    torch.Size([5, 2])
    """

    def __init__(self, n_features, n_out=2, hidden=(64, 32)):
        super().__init__()
        sizes = [int(n_features), *map(int, hidden)]
        layers = elu_layers(sizes)  # before the last layer: the order of random initialisation is the seed's
        last = nn.Linear(sizes[-1], int(n_out))
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.mlp = nn.Sequential(*layers, last)
        self.linear = nn.Linear(int(n_features), int(n_out))
        self.register_buffer("proj_mean", torch.zeros(int(n_out)))
        self.register_buffer("proj", torch.eye(int(n_out)))

    def init_linear(self, mean, w):
        """Start the linear part at ``(x - mean) @ w`` (e.g. from :func:`linear_vamp`)."""
        w = np.asarray(w, np.float64)
        with torch.no_grad():
            full = np.zeros((self.linear.out_features, w.shape[0]))
            full[:w.shape[1]] = w.T
            self.linear.weight.copy_(torch.as_tensor(full, dtype=self.linear.weight.dtype))
            self.linear.bias.copy_(torch.as_tensor(-(full @ np.asarray(mean, np.float64)),
                                                   dtype=self.linear.bias.dtype))

    def forward(self, x):
        return self.linear(x) + self.mlp(x)

    def set_projection(self, x0, x1, eps=1e-10):
        """Fix ``encode`` to the kinetic map of the network's VAMP singular functions on the pairs
        ``(x0, x1)``; returns the singular values."""
        with torch.no_grad():
            y0, y1 = self(torch.as_tensor(x0)).double().numpy(), self(torch.as_tensor(x1)).double().numpy()
        m0, w, s = linear_vamp(y0, y1, y0.shape[1], eps)
        w = w * s
        full = np.zeros((y0.shape[1], self.proj.shape[1]))
        full[:, :w.shape[1]] = w
        with torch.no_grad():
            self.proj.copy_(torch.as_tensor(full, dtype=self.proj.dtype))
            self.proj_mean.copy_(torch.as_tensor(m0, dtype=self.proj_mean.dtype))
        return s

    def encode(self, x):
        return (self(x) - self.proj_mean) @ self.proj

    def loss(self, x0, x1, eps=1e-6):
        """Negative VAMP-2 score of the outputs of a batch of pairs."""
        return -_torch_vamp2(self(x0), self(x1), eps)


def train_vampnet(model, x0, x1, epochs=50, batch_size=1024, learning_rate=1e-3, patience=5,
                  validation_fraction=0.1, seed=0, block=50):
    """Train ``model`` with Adam to maximise the VAMP-2 score of the pairs ``(x0[i], x1[i])`` (float32 arrays,
    in time order), keeping the weights of the best validation score; the starting weights count as epoch 0.

    Validation pairs are whole blocks of ``block`` consecutive pairs (a random ``validation_fraction`` of the
    blocks), so that they are not the immediate neighbours in time of training pairs. Training stops after
    ``patience`` epochs without a better validation score (None: run all ``epochs``). Returns the history
    ``{"train": [...], "validation": [...], "best_epoch": int}`` of losses (negative VAMP-2 scores).
    Shuffling is seeded by ``seed`` without touching torch's global generator.
    """
    rng = np.random.default_rng(seed)
    n = len(x0)
    blocks = np.arange(n) // int(block)
    n_blocks = blocks[-1] + 1
    n_val = int(round(validation_fraction * n_blocks)) if n_blocks >= 4 else 0
    val_mask = np.isin(blocks, rng.permutation(n_blocks)[:n_val])
    if n_val and (val_mask.sum() < 2 * x0.shape[1] or (~val_mask).sum() < 2 * x0.shape[1]):
        val_mask[:] = False

    def rows(a, mask):
        return torch.from_numpy(np.ascontiguousarray(a[mask]))

    t0, t1, v0, v1 = rows(x0, ~val_mask), rows(x1, ~val_mask), rows(x0, val_mask), rows(x1, val_mask)
    has_val = bool(val_mask.any())
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
    batch_size = min(int(batch_size), len(t0))

    def evaluate():
        model.eval()
        with torch.no_grad():
            tr = float(model.loss(t0, t1))
            return tr, (float(model.loss(v0, v1)) if has_val else tr)

    tr, v = evaluate()
    history = {"train": [tr], "validation": [v], "best_epoch": 0}
    best, best_state, waited = v, copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, int(epochs) + 1):
        model.train()
        perm = torch.from_numpy(rng.permutation(len(t0)))
        total, count = 0.0, 0
        # the last, short batch joins the one before (covariances of a few pairs are noise)
        starts = list(range(0, max(len(t0) - batch_size + 1, 1), batch_size))
        for i, s in enumerate(starts):
            idx = perm[s:(s + batch_size if i < len(starts) - 1 else len(t0))]
            opt.zero_grad()
            loss = model.loss(t0[idx], t1[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        history["train"].append(total / count)
        model.eval()
        with torch.no_grad():
            v = float(model.loss(v0, v1)) if has_val else history["train"][-1]
        history["validation"].append(v)
        if v < best - 1e-6 * abs(best):
            best, best_state, waited = v, copy.deepcopy(model.state_dict()), 0
            history["best_epoch"] = epoch
        else:
            waited += 1
            if patience is not None and waited >= patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return history
