"""Batched inference: galaxies of many fields -> membership, sigma, M_sigma, mass posterior.

The chain (Deep Sets paper, sect. 2.2 and 4): features -> classifier probabilities ->
velocity dispersion of the members (p >= 0.5) -> log10 M_sigma from the bundle's
M–sigma relation -> flow samples of Delta -> log10 M200c = log10 M_sigma + Delta.
The same functions serve training (on the training splits) and ``infer`` (on real data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from surveymass.errors import InputError
from surveymass.models.bundle import Bundle
from surveymass.models.classifier import MEMBER_THRESHOLD, InterloperClassifier
from surveymass.models.data import FieldSet, pad
from surveymass.models.device import resolve_device
from surveymass.models.dispersion import velocity_dispersion
from surveymass.models.features import Features, compute_features, make_batch
from surveymass.models.posterior import MassPosterior
from surveymass.models.training import batches
from surveymass.observe import ObservedField
from surveymass.photometry import absolute_magnitude_limit
from surveymass.progress import progress_bar

#: Fields with fewer classifier members use this many most-probable galaxies for sigma.
MIN_MEMBERS = 3
#: Floor on a dispersion [km/s], so that coincident velocities still give a finite mass.
SIGMA_FLOOR_KMS = 10.0


@torch.no_grad()
def membership_probabilities(classifier: InterloperClassifier | None, features: Features,
                             device: torch.device, batch_size: int = 512,
                             quiet: bool = True) -> np.ndarray:
    """Membership probability of every galaxy (ragged); all 1 without a classifier."""
    p = np.ones(features.offsets[-1])
    if classifier is None:
        return p
    classifier.eval()
    n_fields = len(features.offsets) - 1
    sizes = np.diff(features.offsets)
    for idx in progress_bar(list(batches(n_fields, batch_size, sizes=sizes)), desc="membership",
                            quiet=quiet):
        batch = make_batch(features, idx).to(device)
        probs = torch.sigmoid(classifier(batch.galaxy, batch.mask, batch.field))
        p[batch.rows] = probs[batch.mask].double().cpu().numpy()
    return p


def members(offsets: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Member mask (ragged): p >= 0.5, or the MIN_MEMBERS most probable galaxies of a
    field with fewer members than that."""
    p_padded = pad(p, offsets, fill=-np.inf)
    rank = np.argsort(np.argsort(-p_padded, axis=1, kind="stable"), axis=1)
    is_member = p_padded >= MEMBER_THRESHOLD
    few = is_member.sum(axis=1) < MIN_MEMBERS
    is_member |= few[:, None] & (rank < MIN_MEMBERS) & np.isfinite(p_padded)
    valid = np.isfinite(p_padded)
    return is_member[valid]


def member_dispersion(fields: FieldSet, p: np.ndarray, estimator: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Velocity dispersion [km/s] (at least SIGMA_FLOOR_KMS; NaN for a field with fewer
    than 2 members, which ``infer`` flags 'too_few_members') and number of members of
    every field."""
    is_member = members(fields.offsets, p)
    v = pad(np.where(is_member, fields.v_los, np.nan), fields.offsets)
    sigma = np.maximum(velocity_dispersion(v, estimator), SIGMA_FLOOR_KMS)
    return sigma, np.add.reduceat(is_member, fields.offsets[:-1])


def posterior_batch(features: Features, p: np.ndarray, log10_m_sigma: np.ndarray,
                    idx: np.ndarray, device: torch.device):
    """The posterior's inputs for fields ``idx``: a padded batch whose galaxy features
    carry the membership probability, and log10 M_sigma (B,)."""
    batch = make_batch(features, idx, galaxy_extra=p[:, None]).to(device)
    m_sigma = torch.as_tensor(log10_m_sigma[idx], dtype=torch.float32, device=device)
    return batch, m_sigma


@torch.no_grad()
def sample_delta(posterior: MassPosterior, features: Features, p: np.ndarray,
                 log10_m_sigma: np.ndarray, n_samples: int, seed: int,
                 device: torch.device, batch_size: int = 512, quiet: bool = True) -> np.ndarray:
    """(n_fields, n_samples) draws of Delta = log10 M200c - log10 M_sigma."""
    posterior.eval()
    n_fields = len(log10_m_sigma)
    out = np.empty((n_fields, n_samples), dtype=np.float32)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        sizes = np.diff(features.offsets)
        for idx in progress_bar(list(batches(n_fields, batch_size, sizes=sizes)),
                                desc="posterior", quiet=quiet):
            batch, m_sigma = posterior_batch(features, p, log10_m_sigma, idx, device)
            draws = posterior.sample(n_samples, batch.galaxy, batch.mask, batch.field, m_sigma)
            out[idx] = draws.cpu().numpy()
    return out


@torch.no_grad()
def log_prob_delta(posterior: MassPosterior, features: Features, p: np.ndarray,
                   log10_m_sigma: np.ndarray, delta: np.ndarray, device: torch.device,
                   batch_size: int = 512) -> np.ndarray:
    """log p(Delta) [per dex] of ``delta`` (n_fields, K) under each field's posterior."""
    posterior.eval()
    out = np.empty(delta.shape, dtype=np.float64)
    for idx in batches(len(log10_m_sigma), batch_size, sizes=np.diff(features.offsets)):
        batch, m_sigma = posterior_batch(features, p, log10_m_sigma, idx, device)
        values = torch.as_tensor(delta[idx], dtype=torch.float32, device=device)
        out[idx] = posterior.log_prob_values(values, batch.galaxy, batch.mask, batch.field,
                                             m_sigma).cpu().numpy()
    return out


@dataclass
class Prediction:
    """Per galaxy (ragged by ``offsets``): ``p_member``, ``is_member``. Per field:
    ``n_members``, ``sigma`` [km/s], ``log10_m_sigma`` and ``samples`` (n_fields,
    n_samples) of log10 M200c [h^-1 Msun]; ``features`` are the normalised inputs."""

    offsets: np.ndarray
    p_member: np.ndarray
    is_member: np.ndarray
    n_members: np.ndarray
    sigma: np.ndarray
    log10_m_sigma: np.ndarray
    samples: np.ndarray
    features: Features

    @property
    def median(self) -> np.ndarray:
        """Posterior median of log10 M200c per field."""
        return np.median(self.samples, axis=1)

    @property
    def std(self) -> np.ndarray:
        """Posterior standard deviation of log10 M200c per field [dex]."""
        return np.std(self.samples, axis=1)


def fields_for_bundle(bundle: Bundle, observed: list[ObservedField], mag_r: list[np.ndarray],
                      z_cl: np.ndarray, field_id: np.ndarray | None = None) -> FieldSet:
    """A FieldSet of real fields for ``bundle``: the galaxies each field keeps
    (:func:`surveymass.observe.observe_field` through the bundle's aperture; no second
    cut) with their apparent magnitudes (``mag_r`` of every input galaxy, NaN when
    unknown); the limiting absolute magnitude comes from the bundle's survey at each
    ``z_cl``."""
    z_cl = np.atleast_1d(np.asarray(z_cl, float))
    if not len(observed) == len(mag_r) == len(z_cl):
        raise InputError("give one observed field, magnitude array and redshift per field")
    if any(field.aperture != bundle.aperture for field in observed):
        raise InputError(f"fields observed through another aperture than the bundle "
                         f"{bundle.name!r}'s ({bundle.aperture}); observe them through it")
    counts = np.array([field.n_galaxies for field in observed])

    def galaxies(arrays):
        return np.concatenate([np.asarray(a, float)[field.in_aperture]
                               for a, field in zip(arrays, observed)])

    return FieldSet(offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                    x=galaxies([field.phase_space.x for field in observed]),
                    y=galaxies([field.phase_space.y for field in observed]),
                    v_los=galaxies([field.phase_space.v_los for field in observed]),
                    mag_r=galaxies(mag_r), z_cl=z_cl,
                    mag_lim_abs=absolute_magnitude_limit(z_cl, bundle.survey, bundle.cosmology),
                    field_id=np.arange(len(z_cl)) if field_id is None else np.asarray(field_id))


def check_fields(bundle: Bundle, fields: FieldSet) -> None:
    """Refuse fields the bundle was not trained for (too few galaxies, outside aperture)."""
    too_few = fields.n_galaxies < bundle.aperture.min_galaxies
    if np.any(too_few):
        raise InputError(f"{int(too_few.sum())} field(s) (first: field_id "
                         f"{fields.field_id[np.argmax(too_few)]}) have fewer than "
                         f"{bundle.aperture.min_galaxies} galaxies in the aperture; the "
                         f"bundle {bundle.name!r} is not trained for them")
    outside = (np.hypot(fields.x, fields.y) >= bundle.aperture.r_max * (1 + 1e-6)) | (
        np.abs(fields.v_los) >= bundle.aperture.v_max * (1 + 1e-6))
    if np.any(outside):
        raise InputError(f"{int(outside.sum())} galaxies lie outside the bundle's aperture "
                         f"(R < {bundle.aperture.r_max} h^-1 Mpc, |v_los| < "
                         f"{bundle.aperture.v_max} km/s); cut them with the Aperture first")


def predict(bundle: Bundle, fields: FieldSet, n_samples: int = 1000, seed: int = 0,
            device: str | torch.device = "auto", batch_size: int = 512,
            quiet: bool = True) -> Prediction:
    """Run the bundle on ``fields``: membership, sigma, M_sigma and posterior samples."""
    if n_samples < 1:
        raise InputError("n_samples must be at least 1")
    check_fields(bundle, fields)
    device = resolve_device(device) if isinstance(device, str) else device
    bundle.to(device)
    features = bundle.normalisation.apply(compute_features(fields, bundle.survey.mag_limit,
                                                           bundle.normalisation.features))
    p = membership_probabilities(bundle.classifier, features, device, batch_size, quiet)
    sigma, n_members = member_dispersion(fields, p, bundle.msigma.estimator)
    log10_m_sigma = bundle.msigma.log10_mass(sigma, fields.z_cl, bundle.cosmology)
    delta = sample_delta(bundle.posterior, features, p, log10_m_sigma, n_samples, seed,
                         device, batch_size, quiet)
    return Prediction(offsets=fields.offsets, p_member=p, is_member=members(fields.offsets, p),
                      n_members=n_members, sigma=sigma, log10_m_sigma=log10_m_sigma,
                      samples=log10_m_sigma[:, None] + delta, features=features)
