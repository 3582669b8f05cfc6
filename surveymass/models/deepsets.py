"""Hierarchical Deep Sets (Deep Sets paper, eq. 3; Zaheer et al. 2017).

Each block encodes every galaxy together with the current field context,
h_i^l = phi^l([h_i^(l-1), c^(l-1)]), then updates the context from the mean of the
encodings, c^l = rho^l([mean_i h_i^l, c^(l-1)]). Mean pooling (masked for padding) keeps
richness from leaking in implicitly (paper, sect. 2.2); h^0 are the galaxy features and
c^0 the field features. The per-galaxy latents are permutation equivariant and the
context permutation invariant.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from surveymass.errors import InputError


@dataclass(frozen=True)
class Architecture:
    """Network sizes: MLP ``width`` and ``depth`` (hidden layers), per-galaxy ``latent``
    and field ``context`` sizes, number of Deep Sets ``blocks``; the flow's spline
    ``flow_bins``, ``flow_hidden`` width and ``flow_bound`` (standardised units)."""

    width: int = 64
    depth: int = 2
    latent: int = 32
    context: int = 32
    blocks: int = 3
    flow_bins: int = 8
    flow_hidden: int = 64
    flow_bound: float = 5.0

    def __post_init__(self) -> None:
        sizes = (self.width, self.depth, self.latent, self.context, self.blocks,
                 self.flow_bins, self.flow_hidden)
        if min(sizes) < 1 or self.flow_bound <= 0:
            raise InputError(f"network sizes must be positive integers: {self}")

    def to_dict(self) -> dict:
        return asdict(self)


def mlp(n_in: int, width: int, n_out: int, depth: int) -> nn.Sequential:
    """``depth`` hidden SiLU layers of ``width`` units, then a linear output."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), nn.SiLU()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the set axis of ``h`` (B, N, F), counting only ``mask`` (B, N) entries."""
    weight = mask.unsqueeze(-1).to(h.dtype)
    return (h * weight).sum(1) / weight.sum(1).clamp(min=1.0)


class DeepSetBlock(nn.Module):
    """One block of eq. 3: pointwise encoder phi and context updater rho.

    phi's first layer acting on [h_i, c] is split as W_h h_i + W_c c, which is the same
    linear map, but W_c c is computed once per field instead of once per galaxy.
    """

    def __init__(self, n_point: int, n_context_in: int, arch: Architecture):
        super().__init__()
        self.point_in = nn.Linear(n_point, arch.width)
        self.context_in = nn.Linear(n_context_in, arch.width, bias=False)
        self.encoder = nn.Sequential(nn.SiLU(), mlp(arch.width, arch.width, arch.latent,
                                                    arch.depth - 1))
        self.updater = mlp(arch.latent + n_context_in, arch.width, arch.context, arch.depth)

    def forward(self, h, mask, context):
        first = self.point_in(h) + self.context_in(context).unsqueeze(1)
        h = self.encoder(first) * mask.unsqueeze(-1).to(h.dtype)
        context = self.updater(torch.cat([masked_mean(h, mask), context], dim=-1))
        return h, context


class HierarchicalDeepSets(nn.Module):
    """``arch.blocks`` stacked blocks: (galaxy (B, N, F), mask (B, N), field (B, G)) ->
    (per-galaxy latents (B, N, latent), field context (B, context))."""

    def __init__(self, n_galaxy: int, n_field: int, arch: Architecture):
        super().__init__()
        blocks = []
        for i in range(arch.blocks):
            blocks.append(DeepSetBlock(n_galaxy if i == 0 else arch.latent,
                                       n_field if i == 0 else arch.context, arch))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, galaxy, mask, field):
        h, context = galaxy, field
        for block in self.blocks:
            h, context = block(h, mask, context)
        return h, context
