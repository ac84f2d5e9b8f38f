"""Training an ANIModel on energies and forces with the differentiable torch AEV path."""
import copy

import numpy as np
import torch
from ase.units import Hartree

from .aev import aev_torch, molecule_neighbors, torch_indices

__all__ = ["fit"]


def _prepare(model, dataset, need_forces):
    """Per-frame tensors for the torch AEV path (neighbour structure is fixed: positions are data)."""
    frames = []
    for k, fr in enumerate(dataset.frames):
        idx = model.aev.species_index(fr["symbols"])
        if need_forces and fr["forces"] is None:
            raise ValueError(f"frame {k} has no forces; pass force_weight=0 to train on energies only")
        nd, x = molecule_neighbors(model.aev, idx, fr["positions"], fr["box"])
        centre, neighbor, shifts, triples = torch_indices(nd, x)
        frames.append({
            "species": torch.as_tensor(idx, dtype=torch.long), "positions": torch.as_tensor(x),
            "centre": torch.as_tensor(centre), "neighbor": torch.as_tensor(neighbor), "shifts": torch.as_tensor(shifts),
            "triples": torch.as_tensor(triples), "energy": fr["energy"],
            "forces": None if fr["forces"] is None else torch.as_tensor(fr["forces"])})
    return frames


def _batch(frames):
    """Concatenate frames into one disconnected system."""
    offset, parts = 0, {k: [] for k in ("species", "positions", "centre", "neighbor", "shifts", "triples", "frame")}
    pair_offset = 0
    for k, fr in enumerate(frames):
        n = len(fr["species"])
        parts["species"].append(fr["species"])
        parts["positions"].append(fr["positions"])
        parts["centre"].append(fr["centre"] + offset)
        parts["neighbor"].append(fr["neighbor"] + offset)
        parts["shifts"].append(fr["shifts"])
        parts["triples"].append(fr["triples"] + pair_offset)
        parts["frame"].append(torch.full((n,), k, dtype=torch.long))
        offset += n
        pair_offset += len(fr["centre"])
    out = {k: torch.cat(v, dim=-1 if k == "triples" else 0) for k, v in parts.items()}
    out["energy"] = torch.tensor([fr["energy"] for fr in frames], dtype=torch.float64)
    out["n_atoms"] = torch.tensor([len(fr["species"]) for fr in frames], dtype=torch.float64)
    out["forces"] = torch.cat([fr["forces"] for fr in frames]) if all(fr["forces"] is not None for fr in frames) \
        else None
    return out


def _loss(model, b, force_weight, create_graph):
    """Sum over ensemble members of energy MSE per atom (eV²) + force_weight * force MSE ((eV/Å)²)."""
    pos = b["positions"].clone().requires_grad_(force_weight > 0)
    aev = aev_torch(model.aev, b["species"], pos, b["centre"], b["neighbor"], b["shifts"], b["triples"])
    atomic = model.networks(aev.unsqueeze(0), b["species"], model.species) * Hartree  # (M, N) eV
    sae = torch.as_tensor(model.self_energies * Hartree)[b["species"]]
    energies = (atomic + sae).new_zeros((atomic.shape[0], len(b["energy"]))).index_add(1, b["frame"], atomic + sae)
    loss = (((energies - b["energy"]) ** 2) / b["n_atoms"]).mean(1).sum()
    if force_weight > 0:
        for m in range(model.ensemble):
            (grad,) = torch.autograd.grad(energies[m].sum(), pos, create_graph=create_graph, retain_graph=True)
            loss = loss + force_weight * ((-grad - b["forces"]) ** 2).mean()
    return loss


def fit(model, dataset, force_weight=1.0, validation_fraction=0.1, max_epochs=200, patience=20, batch_size=8,
        learning_rate=1e-3, random_state=0):
    """Train ``model``'s networks (Adam) on ``dataset``; return the training history.

    A new model (all self energies zero) first gets per-element self energies from a least-squares fit of
    the training energies to the element counts; the networks then learn the rest. The loss, summed over the
    ensemble members, is the energy MSE per atom (eV²) plus ``force_weight`` × the force MSE ((eV/Å)²).
    Training stops after ``patience`` epochs without a better validation loss (training loss when
    ``validation_fraction`` is 0) and the best weights are kept. ``random_state`` fixes the split and order.

    Returns
    -------
    dict with ``train_loss``, ``validation_loss`` (per epoch), ``best_epoch``, ``n_train``, ``n_validation``.
    """
    if not 0 <= validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    if force_weight < 0:
        raise ValueError(f"force_weight must be >= 0, got {force_weight}")
    if len(dataset) == 0:
        raise ValueError("the dataset is empty")
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(dataset))
    n_val = int(round(validation_fraction * len(dataset)))
    if validation_fraction > 0 and len(dataset) > 1:
        n_val = max(n_val, 1)
    val_idx, train_idx = order[:n_val], order[n_val:]
    train = _prepare(model, dataset.subset(train_idx), force_weight > 0)
    val = _prepare(model, dataset.subset(val_idx), force_weight > 0)
    if not np.any(model.self_energies):
        counts = np.zeros((len(train), len(model.species)))
        for k, fr in enumerate(train):
            counts[k] = np.bincount(fr["species"].numpy(), minlength=len(model.species))
        energies = np.array([fr["energy"] for fr in train])
        model.self_energies = np.linalg.lstsq(counts, energies, rcond=None)[0] / Hartree
    model.networks.train()
    opt = torch.optim.Adam(model.networks.parameters(), lr=learning_rate)
    val_batch = _batch(val) if val else None
    history = {"train_loss": [], "validation_loss": [], "best_epoch": 0, "n_train": len(train),
               "n_validation": len(val)}
    best, best_state, since = np.inf, None, 0
    for epoch in range(max_epochs):
        total = 0.0
        perm = rng.permutation(len(train))
        for start in range(0, len(train), batch_size):
            batch = _batch([train[k] for k in perm[start:start + batch_size]])
            opt.zero_grad()
            loss = _loss(model, batch, force_weight, create_graph=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(batch["energy"])
        history["train_loss"].append(total / len(train))
        if val_batch is None:
            score = history["train_loss"][-1]
        else:
            score = _loss(model, val_batch, force_weight, create_graph=False).item()
        history["validation_loss"].append(score)
        if score < best:
            best, best_state, since = score, copy.deepcopy(model.networks.state_dict()), 0
            history["best_epoch"] = epoch
        else:
            since += 1
            if since > patience:
                break
    model.networks.load_state_dict(best_state)
    model.networks.eval()
    return history
