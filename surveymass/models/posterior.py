"""The mass posterior: Deep Sets conditioning a neural spline flow (paper, sect. 2.2).

The flow models Delta = log10 M200c - log10 M_sigma, the correction to the M–sigma
baseline (paper, eq. 2). Its input is every galaxy in the aperture, members and
interlopers, with the classifier's membership probability appended to the galaxy
features and the standardised log10 M_sigma to the field features. Delta is first
standardised with the training mean and standard deviation (an affine map, so
log p(Delta) = log p(u) - log scale); u follows a pyro conditional linear-rational spline
(Durkan et al. 2019; Dolatabadi et al. 2020) of a standard normal, conditioned on the final
Deep Sets context.
"""

from __future__ import annotations

import pyro.distributions as dist
import pyro.distributions.transforms as T
import torch
from torch import nn

from surveymass.models.deepsets import Architecture, HierarchicalDeepSets


class MassPosterior(nn.Module):
    """p(Delta | galaxies): ``log_prob`` and ``sample`` for padded batches."""

    def __init__(self, n_galaxy: int, n_field: int, arch: Architecture,
                 delta_loc: float = 0.0, delta_scale: float = 1.0,
                 m_sigma_loc: float = 14.0, m_sigma_scale: float = 1.0):
        super().__init__()
        self.deepsets = HierarchicalDeepSets(n_galaxy, n_field + 1, arch)
        self.spline = T.conditional_spline(1, context_dim=arch.context,
                                           hidden_dims=[arch.flow_hidden] * 2,
                                           count_bins=arch.flow_bins, bound=arch.flow_bound)
        self.register_buffer("delta_loc", torch.tensor(float(delta_loc)))
        self.register_buffer("delta_scale", torch.tensor(float(delta_scale)))
        self.register_buffer("m_sigma_loc", torch.tensor(float(m_sigma_loc)))
        self.register_buffer("m_sigma_scale", torch.tensor(float(m_sigma_scale)))

    def context(self, galaxy, mask, field, log10_m_sigma) -> torch.Tensor:
        """The Deep Sets field context (B, context) that conditions the flow;
        ``log10_m_sigma`` (B,) is the baseline mass [h^-1 Msun]."""
        m_sigma = ((log10_m_sigma - self.m_sigma_loc) / self.m_sigma_scale).unsqueeze(-1)
        return self.deepsets(galaxy, mask, torch.cat([field, m_sigma.to(field.dtype)], -1))[1]

    def flow(self, context: torch.Tensor) -> dist.TransformedDistribution:
        """Distribution of standardised Delta, batch shape (B,), event shape (1,)."""
        shape = (context.shape[0], 1)
        base = dist.Normal(torch.zeros(shape, device=context.device),
                           torch.ones(shape, device=context.device),
                           validate_args=False).to_event(1)
        return dist.ConditionalTransformedDistribution(base, [self.spline]).condition(context)

    def log_prob(self, delta, galaxy, mask, field, log10_m_sigma) -> torch.Tensor:
        """log p(Delta) (B,) [per dex] for Delta (B,) given the batch."""
        u = ((delta - self.delta_loc) / self.delta_scale).unsqueeze(-1)
        flow = self.flow(self.context(galaxy, mask, field, log10_m_sigma))
        return flow.log_prob(u) - torch.log(self.delta_scale)

    def loss(self, galaxy, mask, field, log10_m_sigma, delta) -> torch.Tensor:
        """Negative mean log-likelihood (the objective of paper eq. 4)."""
        return -self.log_prob(delta, galaxy, mask, field, log10_m_sigma).mean()

    @torch.no_grad()
    def sample(self, n_samples: int, galaxy, mask, field, log10_m_sigma) -> torch.Tensor:
        """``n_samples`` draws of Delta per field, shape (B, n_samples)."""
        u = self.flow(self.context(galaxy, mask, field, log10_m_sigma)).sample((n_samples,))
        return (u.squeeze(-1) * self.delta_scale + self.delta_loc).T

    @torch.no_grad()
    def log_prob_values(self, delta, galaxy, mask, field, log10_m_sigma) -> torch.Tensor:
        """log p(Delta) of several values per field: ``delta`` (B, K) -> (B, K)."""
        flow = self.flow(self.context(galaxy, mask, field, log10_m_sigma))
        u = ((delta.T - self.delta_loc) / self.delta_scale).unsqueeze(-1)  # (K, B, 1)
        return (flow.log_prob(u) - torch.log(self.delta_scale)).T
