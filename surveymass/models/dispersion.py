"""Robust velocity dispersions and the M–sigma baseline.

Estimators work on padded 2-D arrays (one field per row, NaN for padding) so that tens of
thousands of fields are done at once:

* the gapper (Beers, Flynn & Gebhardt 1990, AJ 100, 32):
  sigma_G = sqrt(pi) / (n (n - 1)) * sum_{i=1}^{n-1} i (n - i) g_i, with g_i the gaps of
  the sorted velocities. Hand-written because astropy has no gapper.
* the biweight scale (Beers et al. 1990), from ``astropy.stats.biweight_scale``.

The baseline (Deep Sets paper, eq. 1; Ho et al. 2019) is the power law
:class:`surveymass.halo.MSigmaRelation` fitted on training mocks (:func:`fit_msigma`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from astropy.stats import biweight_scale

from surveymass.errors import InputError
from surveymass.halo import MSigmaRelation, log10_ez

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

ESTIMATORS = ("gapper", "biweight")


def gapper(v: np.ndarray) -> np.ndarray:
    """Gapper dispersion [km/s] of each row of ``v`` (NaN = padding); NaN below 2 values."""
    v = np.atleast_2d(np.asarray(v, float))
    n = np.sum(np.isfinite(v), axis=1)
    gaps = np.diff(np.sort(v, axis=1), axis=1)  # NaN beyond each row's n - 1 gaps
    i = np.arange(1, v.shape[1])[None, :]
    weights = i * (n[:, None] - i)
    total = np.nansum(np.where(i < n[:, None], weights * gaps, 0.0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n >= 2, np.sqrt(np.pi) / (n * (n - 1)) * total, np.nan)


def biweight(v: np.ndarray) -> np.ndarray:
    """Biweight scale [km/s] of each row of ``v`` (NaN = padding); NaN below 2 values."""
    v = np.atleast_2d(np.asarray(v, float))
    n = np.sum(np.isfinite(v), axis=1)
    with warnings.catch_warnings():  # all-NaN rows warn; they are flagged below
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = biweight_scale(v, axis=1, ignore_nan=True)
    return np.where(n >= 2, scale, np.nan)


def velocity_dispersion(v: np.ndarray, estimator: str = "gapper") -> np.ndarray:
    """Dispersion [km/s] of each row of padded ``v`` with the named estimator."""
    if estimator == "gapper":
        return gapper(v)
    if estimator == "biweight":
        return biweight(v)
    raise InputError(f"unknown dispersion estimator {estimator!r}; use one of {ESTIMATORS}")


def fit_msigma(log10_m200c: np.ndarray, sigma: np.ndarray, z: np.ndarray, cosmology: FLRW,
               estimator: str = "gapper") -> MSigmaRelation:
    """Least-squares fit of log10 sigma on log10(E(z) M200c) (Deep Sets paper, eq. 1)."""
    good = np.isfinite(sigma) & (sigma > 0) & np.isfinite(log10_m200c)
    if good.sum() < 3:
        raise InputError(f"cannot fit M-sigma: only {int(good.sum())} field(s) have a "
                         "dispersion; the training split needs at least 3")
    x = np.asarray(log10_m200c)[good] + log10_ez(np.asarray(z)[good], cosmology)
    y = np.log10(sigma[good])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    return MSigmaRelation(float(slope), float(intercept), float(np.std(residual)), estimator)
