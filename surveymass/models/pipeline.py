"""Training set -> model bundle: the classifier, the M–sigma fit and the mass posterior.

Steps (Deep Sets paper, sect. 2-4): features and their normalisation from the train
split; for the cylindrical setup the interloper classifier; the M–sigma power law fitted
on the train split with the dispersion of the (classifier's) members; the posterior of
Delta = log10 M200c - log10 M_sigma trained by maximum likelihood; early stopping on the
val split; held-out metrics on the test split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from surveymass.errors import InputError
from surveymass.models import datasets
from surveymass.models.bundle import (
    Bundle,
    build_networks,
    bundle_path,
    check_bundle_output,
    save_bundle,
)
from surveymass.models.data import FieldSet
from surveymass.models.deepsets import Architecture
from surveymass.models.device import resolve_device, seed_everything
from surveymass.models.dispersion import ESTIMATORS, fit_msigma
from surveymass.models.evaluate import summary_metrics
from surveymass.models.features import Features, Normalisation, compute_features, make_batch
from surveymass.models.predict import (
    member_dispersion,
    membership_probabilities,
    posterior_batch,
    predict,
)
from surveymass.models.training import TrainingConfig, fit
from surveymass.models.typicality import Reference, summaries


@dataclass
class Split:
    """One split of a training set with its normalised features and baseline inputs."""

    fields: FieldSet
    features: Features
    p_member: np.ndarray | None = None
    log10_m_sigma: np.ndarray | None = None

    @property
    def delta(self) -> np.ndarray:
        return self.fields.log10_m200c - self.log10_m_sigma


def _sizes(splits: dict[str, Split]) -> dict[str, np.ndarray]:
    return {k: s.fields.n_galaxies for k, s in splits.items()}


def _scatter(mask: torch.Tensor, values: np.ndarray) -> torch.Tensor:
    """Ragged ``values`` of a batch's galaxies placed into a (B, N) tensor at ``mask``."""
    out = torch.zeros(mask.shape, dtype=torch.float32)
    out[mask.cpu()] = torch.as_tensor(values, dtype=torch.float32)
    return out.to(mask.device)


def train_classifier(classifier, splits: dict[str, Split], config: TrainingConfig,
                     device: torch.device, quiet: bool) -> dict:
    """Fit the interloper classifier with BCE; returns the training history."""
    classifier.to(device)

    def loss(idx, split):
        s = splits[split]
        batch = make_batch(s.features, idx).to(device)
        labels = _scatter(batch.mask, s.fields.is_member[batch.rows])
        return classifier.loss(batch.galaxy, batch.mask, batch.field, labels)

    return fit(classifier, loss, _sizes(splits), config, "classifier", quiet)


def train_posterior(posterior, splits: dict[str, Split], config: TrainingConfig,
                    device: torch.device, quiet: bool) -> dict:
    """Fit the flow posterior of Delta by maximum likelihood; returns the history."""
    posterior.to(device)
    deltas = {k: torch.as_tensor(s.delta, dtype=torch.float32) for k, s in splits.items()}

    def loss(idx, split):
        s = splits[split]
        batch, m_sigma = posterior_batch(s.features, s.p_member, s.log10_m_sigma, idx, device)
        return posterior.loss(batch.galaxy, batch.mask, batch.field, m_sigma,
                              deltas[split][idx].to(device))

    return fit(posterior, loss, _sizes(splits), config, "posterior", quiet)


def _history_summary(history: dict) -> dict:
    return {k: (np.round(v, 5).tolist() if isinstance(v, list) else v)
            for k, v in history.items()}


def train_bundle(training_set: str | Path, name: str, output: str | Path | None = None,
                 architecture: Architecture = Architecture(),
                 config: TrainingConfig = TrainingConfig(), estimator: str = "gapper",
                 device: str = "auto", quiet: bool = False, overwrite: bool = False,
                 features: str = "full") -> Path:
    """Train a bundle on the feature set ``features`` of ``training_set`` and write it to
    ``output`` (default :func:`~surveymass.models.bundle.bundle_path` of NAME: the user's
    bundle folder, or the shipped one for a shipped name); returns the bundle folder. The
    folder is checked before the training: an existing bundle is replaced only with
    ``overwrite``."""
    folder = Path(output) if output else bundle_path(name)
    check_bundle_output(folder, overwrite)
    if estimator not in ESTIMATORS:
        raise InputError(f"unknown dispersion estimator {estimator!r}; use one of {ESTIMATORS}")
    start = time.perf_counter()
    info = datasets.training_set_info(training_set)
    survey, cosmology = info.survey, info.cosmology
    torch_device = resolve_device(device)
    seed_everything(config.seed)

    raw = {k: datasets.load_split(training_set, k) for k in ("train", "val", "test")}
    normalisation = Normalisation.fit(compute_features(raw["train"], survey.mag_limit, features),
                                      features)
    splits = {k: Split(f, normalisation.apply(compute_features(f, survey.mag_limit, features)))
              for k, f in raw.items()}
    posterior, classifier = build_networks(architecture, info.setup, features)
    histories = {}
    if classifier is not None:
        histories["classifier"] = train_classifier(classifier, splits, config, torch_device,
                                                   quiet)
    for split in splits.values():
        split.p_member = membership_probabilities(classifier, split.features, torch_device)
    sigma = {k: member_dispersion(s.fields, s.p_member, estimator)[0] for k, s in splits.items()}
    train = splits["train"]
    msigma = fit_msigma(train.fields.log10_m200c, sigma["train"], train.fields.z_cl, cosmology,
                        estimator)
    for k, s in splits.items():
        s.log10_m_sigma = msigma.log10_mass(sigma[k], s.fields.z_cl, cosmology)
    _set_standardisation(posterior, train)
    histories["posterior"] = train_posterior(posterior, splits, config, torch_device, quiet)

    bundle = Bundle(name=name, setup=info.setup, survey=survey, aperture=info.aperture,
                    cosmology=cosmology, normalisation=normalisation, msigma=msigma,
                    architecture=architecture, posterior=posterior, classifier=classifier)
    test_prediction = predict(bundle, splits["test"].fields, n_samples=500,
                              seed=config.seed, device=torch_device)
    bundle.info = {
        "training": {
            "training_set": str(Path(training_set).resolve()), "manifest": info.manifest,
            # the galaxy-halo nuisance prior the model marginalises (None: one fixed model)
            "galaxy_halo_prior": info.manifest.get("setup", {}).get("galaxy_halo"),
            "n_fields": {k: s.fields.n_fields for k, s in splits.items()},
            "n_galaxies": {k: int(s.fields.offsets[-1]) for k, s in splits.items()},
            "config": config.to_dict(), "device": str(torch_device),
            "device_name": (torch.cuda.get_device_name(torch_device)
                            if torch_device.type == "cuda" else "cpu"),
            "cpu_threads": torch.get_num_threads(),
            "wall_time_s": round(time.perf_counter() - start, 1),
            "history": {k: _history_summary(h) for k, h in histories.items()},
        },
        "metrics": {"test": summary_metrics(bundle, splits["test"].fields, test_prediction)},
    }
    bundle.reference = typicality_reference(bundle, splits["val"].fields, config.seed,
                                            torch_device)
    return save_bundle(bundle, folder, overwrite)


def typicality_reference(bundle: Bundle, fields: FieldSet, seed: int = 0,
                         device="cpu") -> Reference | None:
    """The misspecification check's reference: ``bundle`` run on held-out mock ``fields``
    (:mod:`surveymass.models.typicality`); None when they are too few for one."""
    prediction = predict(bundle, fields, n_samples=500, seed=seed, device=device)
    table = summaries(fields, prediction.n_members, prediction.log10_m_sigma,
                      prediction.samples)
    try:
        return Reference(table)
    except InputError:
        return None


def _set_standardisation(posterior, train: Split) -> None:
    """Affine standardisation of Delta and log10 M_sigma from the train split."""
    def loc_scale(a):
        a = a[np.isfinite(a)]
        return float(np.mean(a)), float(max(np.std(a), 1e-3))

    posterior.delta_loc.fill_(loc_scale(train.delta)[0])
    posterior.delta_scale.fill_(loc_scale(train.delta)[1])
    posterior.m_sigma_loc.fill_(loc_scale(train.log10_m_sigma)[0])
    posterior.m_sigma_scale.fill_(loc_scale(train.log10_m_sigma)[1])
