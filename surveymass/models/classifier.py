"""The interloper classifier: Deep Sets with a per-galaxy sigmoid head (paper, eq. 5).

The membership probability of galaxy i is sigmoid(w . [h_i, c] + b), from its final
latent h_i and the field context c; trained with binary cross-entropy over the real
(unpadded) galaxies. Galaxies with p >= 0.5 are members.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from surveymass.models.deepsets import Architecture, HierarchicalDeepSets

MEMBER_THRESHOLD = 0.5


class InterloperClassifier(nn.Module):
    """(galaxy (B, N, F), mask (B, N), field (B, G)) -> membership logits (B, N)."""

    def __init__(self, n_galaxy: int, n_field: int, arch: Architecture):
        super().__init__()
        self.deepsets = HierarchicalDeepSets(n_galaxy, n_field, arch)
        self.head = nn.Linear(arch.latent + arch.context, 1)

    def forward(self, galaxy, mask, field):
        h, context = self.deepsets(galaxy, mask, field)
        both = torch.cat([h, context.unsqueeze(1).expand(-1, h.shape[1], -1)], dim=-1)
        return self.head(both).squeeze(-1)

    def loss(self, galaxy, mask, field, is_member) -> torch.Tensor:
        """Mean binary cross-entropy over real galaxies; ``is_member`` (B, N) in {0, 1}."""
        logits = self(galaxy, mask, field)
        per_galaxy = F.binary_cross_entropy_with_logits(logits, is_member.to(logits.dtype),
                                                        reduction="none")
        weight = mask.to(logits.dtype)
        return (per_galaxy * weight).sum() / weight.sum().clamp(min=1.0)
