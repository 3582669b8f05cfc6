"""Where torch runs and how it is seeded: the device choice (CUDA when there is one), the
CPU thread count, and one seed for python, numpy and torch."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from surveymass.errors import InputError

DEVICES = ("auto", "cpu", "cuda")
#: Torch CPU threads; the environment variable SURVEYMASS_CPU_THREADS overrides it (e.g. 1
#: on a shared machine, where two spinning threads per process slow everyone down).
CPU_THREADS = 2


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> cuda when available, else cpu; on cpu torch uses ``CPU_THREADS``."""
    if name not in DEVICES:
        raise InputError(f"unknown device {name!r}; use one of {DEVICES}")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for but torch sees no CUDA GPU; "
                         "use --device cpu or auto")
    device = torch.device("cuda" if name != "cpu" and torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        threads = os.environ.get("SURVEYMASS_CPU_THREADS", str(CPU_THREADS))
        if not threads.strip().isdigit() or int(threads) < 1:
            raise InputError(f"SURVEYMASS_CPU_THREADS={threads!r} is not a positive integer; "
                             "set it to the number of CPU threads torch may use, or unset it")
        torch.set_num_threads(int(threads))
    return device


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
