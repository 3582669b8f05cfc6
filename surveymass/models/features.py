"""The network inputs: one function, :func:`compute_features`, for training and inference.

Per galaxy (Deep Sets paper, sect. 3.1 and 4.1): line-of-sight velocity, projected radius,
the angle between the galaxy's position and the major axis of the ellipse fitted to the
projected galaxy distribution, plus the apparent magnitude relative to the survey limit
(how deep into the luminosity function a galaxy sits). Per field: the ellipticity of that
ellipse (paper), the limiting absolute magnitude at the cluster redshift and the number
of galaxies in the aperture (together they say what a richness means at the field's
depth).

The ellipse comes from the second moments of the projected positions about the cluster
centre: its axes are the square roots of the eigenvalues of the moment tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from surveymass.errors import InputError
from surveymass.models.data import FieldSet, pad, padding_mask, ragged_rows

GALAXY_FEATURES = ("v_los", "r_proj", "angle_to_major_axis", "mag_minus_limit")
FIELD_FEATURES = ("ellipticity", "mag_lim_abs", "log10_n_galaxies")
#: The feature sets a bundle can be trained on, (galaxy features, field features): every
#: feature, or phase space alone (the Deep Sets paper's inputs: no magnitudes, no depth and
#: no galaxy count, which mean pooling keeps hidden), for a kinematics-only posterior.
FEATURE_SETS = {
    "full": (GALAXY_FEATURES, FIELD_FEATURES),
    "kinematic": (("v_los", "r_proj", "angle_to_major_axis"), ("ellipticity",)),
}


@dataclass
class Features:
    """Un-normalised inputs: ``galaxy`` (n_gal, len(GALAXY_FEATURES)) ragged by ``offsets``,
    ``field`` (n_fields, len(FIELD_FEATURES))."""

    galaxy: np.ndarray
    field: np.ndarray
    offsets: np.ndarray


def ellipse(x: np.ndarray, y: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Major-axis position angle [rad, from +x] and ellipticity 1 - b/a of each field.

    From the second moments of (x, y) about the cluster centre (the origin); a and b are
    the square roots of the moment tensor's eigenvalues. A field whose galaxies are all
    at the centre has ellipticity 0 and angle 0.
    """
    field = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    n = np.maximum(np.diff(offsets), 1)
    sxx = np.bincount(field, x * x, minlength=len(n)) / n
    syy = np.bincount(field, y * y, minlength=len(n)) / n
    sxy = np.bincount(field, x * y, minlength=len(n)) / n
    half_trace, half_diff = (sxx + syy) / 2, (sxx - syy) / 2
    root = np.hypot(half_diff, sxy)
    major, minor = half_trace + root, np.maximum(half_trace - root, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ellipticity = np.where(major > 0, 1.0 - np.sqrt(minor / major), 0.0)
    angle = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    return angle, ellipticity


def feature_set(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(galaxy features, field features) of the named set."""
    if name not in FEATURE_SETS:
        raise InputError(f"unknown feature set {name!r}; choose one of {sorted(FEATURE_SETS)}")
    return FEATURE_SETS[name]


def compute_features(fields: FieldSet, mag_limit: float, features: str = "full") -> Features:
    """Features of every galaxy and field in the set ``features``; ``mag_limit`` is the
    survey's apparent limit.

    Unknown magnitudes stay NaN here and become the training mean on normalisation.
    """
    galaxy_names, field_names = feature_set(features)
    if fields.n_fields == 0:
        raise InputError("no fields to compute features for")
    if np.any(fields.n_galaxies < 1):
        raise InputError("every field needs at least one galaxy")
    for name in ("x", "y", "v_los"):
        if not np.all(np.isfinite(getattr(fields, name))):
            raise InputError(f"galaxy column {name!r} has non-finite values; drop those rows")
    angle, ellipticity = ellipse(fields.x, fields.y, fields.offsets)
    position_angle = np.arctan2(fields.y, fields.x) - np.repeat(angle, fields.n_galaxies)
    to_axis = np.arccos(np.clip(np.abs(np.cos(position_angle)), 0.0, 1.0))  # [0, pi/2]
    galaxy = np.column_stack([fields.v_los, np.hypot(fields.x, fields.y), to_axis,
                              fields.mag_r - mag_limit])
    field = np.column_stack([ellipticity, fields.mag_lim_abs,
                             np.log10(fields.n_galaxies)])
    return Features(galaxy=galaxy[:, [GALAXY_FEATURES.index(n) for n in galaxy_names]],
                    field=field[:, [FIELD_FEATURES.index(n) for n in field_names]],
                    offsets=fields.offsets)


@dataclass
class Normalisation:
    """Means and standard deviations of the features (of the set ``features``) on the
    training split, and the range of the field features seen in training (to flag fields
    outside it)."""

    galaxy_mean: np.ndarray
    galaxy_std: np.ndarray
    field_mean: np.ndarray
    field_std: np.ndarray
    field_min: np.ndarray
    field_max: np.ndarray
    features: str = "full"

    @property
    def field_names(self) -> tuple[str, ...]:
        return FEATURE_SETS[self.features][1]

    @classmethod
    def fit(cls, features: Features, feature_set_name: str = "full") -> Normalisation:
        def stats(a):
            mean = np.nan_to_num(np.nanmean(a, axis=0))
            std = np.nan_to_num(np.nanstd(a, axis=0), nan=1.0)
            return mean, np.where(std > 0, std, 1.0)

        (gm, gs), (fm, fs) = stats(features.galaxy), stats(features.field)
        return cls(gm, gs, fm, fs, np.nanmin(features.field, axis=0),
                   np.nanmax(features.field, axis=0), feature_set_name)

    def apply(self, features: Features) -> Features:
        """Standardised features; NaN (unknown magnitude) becomes 0, the training mean."""
        galaxy = np.nan_to_num((features.galaxy - self.galaxy_mean) / self.galaxy_std)
        field = np.nan_to_num((features.field - self.field_mean) / self.field_std)
        return Features(galaxy=galaxy, field=field, offsets=features.offsets)

    def outside_training_range(self, standardised_field: np.ndarray,
                               margin: float = 0.05) -> np.ndarray:
        """(n_fields, n_field_features) mask: standardised field features beyond the
        training range widened by ``margin`` of its span on each side (edge fields of a
        finite training set are not extrapolation)."""
        lo = (self.field_min - self.field_mean) / self.field_std
        hi = (self.field_max - self.field_mean) / self.field_std
        pad = margin * (hi - lo)
        return (standardised_field < lo - pad) | (standardised_field > hi + pad)

    def to_dict(self) -> dict:
        galaxy_names, field_names = FEATURE_SETS[self.features]
        return {"galaxy_features": list(galaxy_names), "field_features": list(field_names),
                "galaxy_mean": self.galaxy_mean.tolist(), "galaxy_std": self.galaxy_std.tolist(),
                "field_mean": self.field_mean.tolist(), "field_std": self.field_std.tolist(),
                "field_min": self.field_min.tolist(), "field_max": self.field_max.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Normalisation:
        names = (tuple(data.get("galaxy_features", ())), tuple(data.get("field_features", ())))
        matching = [k for k, v in FEATURE_SETS.items() if v == names]
        if not matching:
            raise InputError(
                f"the bundle was trained on features {list(names[0])} / {list(names[1])}, "
                "but this code computes the feature sets "
                f"{ {k: [list(g), list(f)] for k, (g, f) in FEATURE_SETS.items()} }: retrain "
                "the bundle with this version")
        n_galaxy, n_field = (len(n) for n in names)
        lengths = {"galaxy_mean": n_galaxy, "galaxy_std": n_galaxy, "field_mean": n_field,
                   "field_std": n_field, "field_min": n_field, "field_max": n_field}
        missing = sorted(set(lengths) - set(data))
        if missing:
            raise InputError(f"the bundle's feature normalisation lacks {missing}: it was "
                             "written by an older surveymass; retrain it with this version")
        arrays = {k: np.asarray(data[k], float) for k in lengths}
        if any(len(arrays[k]) != n for k, n in lengths.items()):
            raise InputError("the bundle's feature normalisation has the wrong length")
        return cls(**arrays, features=matching[0])


@dataclass
class Batch:
    """Padded tensors of a batch of fields: ``galaxy`` (B, N, F), ``mask`` (B, N) True for
    real galaxies, ``field`` (B, G); ``rows`` maps mask positions back to galaxy rows."""

    galaxy: torch.Tensor
    mask: torch.Tensor
    field: torch.Tensor
    rows: np.ndarray

    def to(self, device) -> Batch:
        return Batch(self.galaxy.to(device), self.mask.to(device), self.field.to(device),
                     self.rows)


def make_batch(features: Features, fields: np.ndarray, galaxy_extra: np.ndarray | None = None,
               field_extra: np.ndarray | None = None) -> Batch:
    """Pad the (normalised) features of ``fields``; optional extra columns are appended
    per galaxy (n_gal, k) and per field (n_fields, k)."""
    rows, offsets = ragged_rows(features.offsets, np.asarray(fields))
    galaxy = features.galaxy[rows]
    if galaxy_extra is not None:
        galaxy = np.column_stack([galaxy, galaxy_extra[rows]])
    field = features.field[fields]
    if field_extra is not None:
        field = np.column_stack([field, field_extra[fields]])
    return Batch(galaxy=torch.as_tensor(pad(galaxy.astype(np.float32), offsets, 0.0)),
                 mask=torch.as_tensor(padding_mask(offsets)),
                 field=torch.as_tensor(field.astype(np.float32)), rows=rows)
