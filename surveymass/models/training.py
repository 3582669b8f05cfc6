"""Training loops: mini-batches, gradient clipping and early stopping (seeds and devices:
:mod:`surveymass.models.device`).

:func:`fit` trains any model whose loss is computed batch by batch; it keeps the weights
of the epoch with the lowest validation loss and stops after ``patience`` epochs without
improvement. The learning rate halves when the validation loss stalls.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from surveymass.errors import InputError
from surveymass.progress import progress_bar


@dataclass(frozen=True)
class TrainingConfig:
    """Optimiser settings shared by the classifier and the posterior."""

    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    max_epochs: int = 40
    patience: int = 8
    grad_clip: float = 5.0
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.batch_size, self.max_epochs, self.patience) < 1 or not (
                self.learning_rate > 0 and self.grad_clip > 0 and self.weight_decay >= 0):
            raise InputError(f"invalid training settings {self}: batch size, epochs, "
                             "patience, learning rate and gradient clip must be positive")

    def to_dict(self) -> dict:
        return asdict(self)


def batches(n: int, batch_size: int, rng: np.random.Generator | None = None,
            sizes: np.ndarray | None = None):
    """Index arrays covering range(n) in batches, shuffled when ``rng`` is given.

    With set ``sizes``, fields of similar size share a batch (less padding): fields are
    ordered by size jittered by ~20 per cent, cut into batches, and the batches shuffled.
    """
    if rng is None:
        order = np.argsort(sizes, kind="stable") if sizes is not None else np.arange(n)
    elif sizes is None:
        order = rng.permutation(n)
    else:
        order = np.argsort(np.asarray(sizes) * np.exp(rng.normal(0, 0.2, n)))
    chunks = [order[start:start + batch_size] for start in range(0, n, batch_size)]
    for i in (rng.permutation(len(chunks)) if rng is not None else range(len(chunks))):
        yield chunks[i]


def fit(model: torch.nn.Module, loss: Callable[[np.ndarray, str], torch.Tensor],
        sizes: dict[str, np.ndarray], config: TrainingConfig, desc: str = "training",
        quiet: bool = False) -> dict:
    """Train ``model`` in place; ``loss(indices, split)`` gives the mean loss of a batch of
    fields of ``split`` ('train' or 'val'); ``sizes`` are the galaxies per field of each
    split (for batching by size). Returns the history and best epoch."""
    n_train, n_val = len(sizes["train"]), len(sizes["val"])
    if n_train == 0 or n_val == 0:
        raise InputError(f"{desc}: the train and validation splits must not be empty "
                         f"(got {n_train} and {n_val} fields)")
    rng = np.random.default_rng(config.seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, factor=0.5,
                                                           patience=max(config.patience // 3, 1))
    best = {"val_loss": math.inf, "epoch": -1, "state": copy.deepcopy(model.state_dict())}
    history = {"train_loss": [], "val_loss": []}
    start = time.perf_counter()
    progress = progress_bar(range(config.max_epochs), desc=desc, quiet=quiet, unit="epoch")
    for epoch in progress:
        model.train()
        total = 0.0
        for idx in batches(n_train, config.batch_size, rng, sizes["train"]):
            optimiser.zero_grad()
            value = loss(idx, "train")
            value.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimiser.step()
            total += value.item() * len(idx)
        val = evaluate_loss(model, loss, sizes["val"], config.batch_size)
        history["train_loss"].append(total / n_train)
        history["val_loss"].append(val)
        scheduler.step(val)
        progress.set_postfix(train=f"{total / n_train:.4f}", val=f"{val:.4f}")
        if val < best["val_loss"]:
            best = {"val_loss": val, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
        elif epoch - best["epoch"] >= config.patience:
            break
    if not math.isfinite(best["val_loss"]):
        raise InputError(f"{desc}: the validation loss never became finite; check the "
                         "training set for degenerate fields")
    model.load_state_dict(best["state"])
    model.eval()
    return {"best_epoch": best["epoch"], "best_val_loss": best["val_loss"],
            "epochs_run": len(history["val_loss"]), "wall_time_s": time.perf_counter() - start,
            **history}


@torch.no_grad()
def evaluate_loss(model, loss, sizes: np.ndarray, batch_size: int) -> float:
    """Mean loss over all validation fields (``sizes``: their galaxy counts)."""
    model.eval()
    total = sum(loss(idx, "val").item() * len(idx)
                for idx in batches(len(sizes), batch_size, sizes=sizes))
    return total / len(sizes)
