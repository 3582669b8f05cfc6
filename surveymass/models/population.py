"""Posteriors under the halo mass function: the population prior of real clusters.

The networks are trained on fields flat in log10 M200c over the training range
[log_min, log_max], so their posterior q(M | x) is the posterior under that flat prior.
Real clusters follow the mass function n(M, z) = dn/dlog10 M, steeply falling with mass, so
the posterior of a cluster drawn from the population is

    p(M | x) ∝ q(M | x) n(M, z)   on [log_min, log_max]

(the richness cut of the mocks depends on the data only and does not change this). Flat-prior
draws are re-weighted by n(M, z) at each cluster's redshift and resampled (importance
resampling); draws outside the training range get zero weight, as under the flat prior
itself. The effective sample size of the weights says how well the draws support it.

n(M, z) is the Tinker et al. (2008) M200c mass function of the bundle's cosmology from
colossus, the mass function of the built-in synthetic universe (surveymass.universe.synthetic);
for bundles trained on other simulations it is the standard approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from surveymass.cosmology import DEFAULT_NS, DEFAULT_SIGMA8, colossus_cosmology
from surveymass.errors import InputError

if TYPE_CHECKING:
    from scipy.interpolate import RegularGridInterpolator

#: The posterior priors ``infer`` and ``evaluate`` offer.
PRIORS = ("flat", "mass-function")
#: Redshift grid of the tabulated mass function (the mocks stop at z = 0.25).
_Z_GRID = np.linspace(0.0, 0.3, 31)
#: log10 M200c grid step [dex].
_LOG_M_STEP = 0.01


@dataclass(frozen=True)
class MassFunctionPrior:
    """The halo mass function n(M, z) on the training range, as a prior of log10 M200c.

    log_range: (log_min, log_max) [log10 h^-1 Msun] of the flat training prior; model: the
    colossus mass-function model; sigma8, ns: the power spectrum the universe was made with.
    """

    log_range: tuple[float, float]
    cosmology: object
    model: str = "tinker08"
    sigma8: float = DEFAULT_SIGMA8
    ns: float = DEFAULT_NS

    def __post_init__(self) -> None:
        lo, hi = self.log_range
        if not (np.isfinite(lo) and np.isfinite(hi) and 10.0 <= lo < hi <= 16.5):
            raise InputError(f"the mass-function prior needs a training mass range "
                             f"10 <= log_min < log_max <= 16.5, got {self.log_range}")
        object.__setattr__(self, "_table", self._tabulate())

    def _tabulate(self) -> RegularGridInterpolator:
        from colossus.lss import mass_function
        from scipy.interpolate import RegularGridInterpolator  # slow; the flat prior skips it

        colossus_cosmology(self.cosmology, self.sigma8, self.ns)
        lo, hi = self.log_range
        log_m = np.arange(lo - _LOG_M_STEP, hi + 2 * _LOG_M_STEP, _LOG_M_STEP)
        log_n = np.array([np.log(mass_function.massFunction(10 ** log_m, z, mdef="200c",
                                                             model=self.model,
                                                             q_out="dndlnM"))
                          for z in _Z_GRID])
        return RegularGridInterpolator((_Z_GRID, log_m), log_n)

    def log_density(self, log_m: np.ndarray, z: np.ndarray) -> np.ndarray:
        """ln n(M, z) up to a constant, broadcast over ``log_m`` (n, K) and ``z`` (n,);
        -inf outside the training range."""
        log_m = np.atleast_2d(np.asarray(log_m, float))
        z = np.broadcast_to(np.atleast_1d(np.asarray(z, float))[:, None], log_m.shape)
        if np.any((z < _Z_GRID[0]) | (z > _Z_GRID[-1])):
            raise InputError(f"the mass-function prior is tabulated for {_Z_GRID[0]} <= z <= "
                             f"{_Z_GRID[-1]}; got z up to {float(np.max(z)):.3f}")
        lo, hi = self.log_range
        inside = np.isfinite(log_m) & (log_m >= lo) & (log_m <= hi)
        out = np.full(log_m.shape, -np.inf)
        out[inside] = self._table(np.column_stack([z[inside], log_m[inside]]))
        return out


@dataclass
class Reweighted:
    """Draws resampled under the mass-function prior (NaN rows where no draw had weight),
    the index of each draw in the flat-prior draws, and the effective sample size fraction
    (Kish: (sum w)^2 / (K sum w^2), 1 = as good as the flat draws) per cluster."""

    samples: np.ndarray
    index: np.ndarray
    ess_fraction: np.ndarray


def reweight_samples(samples: np.ndarray, z: np.ndarray, prior: MassFunctionPrior,
                     seed: int = 0) -> Reweighted:
    """Resample flat-prior draws ``samples`` (n, K) of log10 M200c with weights n(M, z)
    (systematic resampling, K draws per cluster)."""
    dtype = np.asarray(samples).dtype
    samples = np.atleast_2d(np.asarray(samples, float))
    n, k = samples.shape
    log_w = prior.log_density(samples, z)
    finite = np.isfinite(log_w).any(axis=1)
    log_w[finite] -= np.max(log_w[finite], axis=1, keepdims=True)
    w = np.where(np.isfinite(log_w), np.exp(log_w), 0.0)
    total = w.sum(axis=1)
    ess = np.divide(total ** 2, k * np.sum(w ** 2, axis=1),
                    out=np.zeros(n), where=total > 0)
    rng = np.random.default_rng(seed)
    positions = (rng.random((n, 1)) + np.arange(k)) / k
    cdf = np.cumsum(w, axis=1) / np.where(total > 0, total, 1.0)[:, None]
    index = np.minimum(np.array([np.searchsorted(c, p) for c, p in zip(cdf, positions)]),
                       k - 1)
    out = np.take_along_axis(samples, index, axis=1)
    out[total == 0] = np.nan
    return Reweighted(out.astype(dtype), index, ess)


def bundle_mass_function_prior(bundle) -> MassFunctionPrior:
    """The mass-function prior of a bundle: its training mass range and the universe's
    mass-function model and power spectrum, from the model card."""
    training = bundle.info.get("training", {})
    manifest = training.get("manifest", {})
    sampling, universe = manifest.get("sampling", {}), manifest.get("universe", {})
    config = universe.get("config", {})
    try:
        log_range = (float(sampling["log10_m200c_min"]), float(sampling["log10_m200c_max"]))
    except (KeyError, TypeError, ValueError):
        raise InputError(f"the bundle {bundle.name!r} does not record its training mass range "
                         "(training.manifest.sampling in the model card): it has no "
                         "mass-function prior; use the flat prior") from None
    return MassFunctionPrior(log_range, bundle.cosmology,
                             model=config.get("mass_function_model", "tinker08"),
                             sigma8=config.get("sigma8", DEFAULT_SIGMA8),
                             ns=config.get("ns", DEFAULT_NS))
