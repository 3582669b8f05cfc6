"""Fields of galaxies held as ragged arrays, and their conversion to padded batches.

A :class:`FieldSet` is many cluster fields at once: per-galaxy columns concatenated field
after field, with ``offsets`` marking where each field starts (CSR layout). It is built
from the FIELDS/GALAXIES tables of a training set (docs/architecture.md) or from real
catalogues already converted to phase space, so training and inference share one path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from surveymass.errors import InputError

#: Columns of a training set's FIELDS and GALAXIES tables that the models read.
FIELD_COLUMNS = ("field_id", "z_cl", "mag_lim_abs")
GALAXY_COLUMNS = ("field_id", "x", "y", "r", "v_los", "mag_r")
TRUTH_FIELD_COLUMNS = ("log10_m200c",)


@dataclass
class FieldSet:
    """Galaxies of many fields in projected phase space.

    Per galaxy (length ``offsets[-1]``): x, y [comoving h^-1 Mpc], v_los [km/s], mag_r
    [apparent mag, NaN when unknown]; ``is_member`` truth or None. Per field (length
    ``n_fields``): z_cl, mag_lim_abs [M_r - 5 log10 h], field_id; ``log10_m200c`` truth
    [h^-1 Msun] or None; ``halo_id`` the simulated halo (lines of sight of one halo share
    it) or None.
    """

    offsets: np.ndarray
    x: np.ndarray
    y: np.ndarray
    v_los: np.ndarray
    mag_r: np.ndarray
    z_cl: np.ndarray
    mag_lim_abs: np.ndarray
    field_id: np.ndarray
    log10_m200c: np.ndarray | None = None
    is_member: np.ndarray | None = None
    halo_id: np.ndarray | None = None

    @property
    def n_fields(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_galaxies(self) -> np.ndarray:
        """Number of galaxies in each field."""
        return np.diff(self.offsets)

    def subset(self, fields: np.ndarray) -> FieldSet:
        """The fields at positions ``fields`` (in that order)."""
        fields = np.asarray(fields, dtype=np.int64)
        rows, offsets = ragged_rows(self.offsets, fields)
        truth_mass = None if self.log10_m200c is None else self.log10_m200c[fields]
        truth_member = None if self.is_member is None else self.is_member[rows]
        halo = None if self.halo_id is None else self.halo_id[fields]
        return FieldSet(offsets=offsets, x=self.x[rows], y=self.y[rows],
                        v_los=self.v_los[rows], mag_r=self.mag_r[rows],
                        z_cl=self.z_cl[fields], mag_lim_abs=self.mag_lim_abs[fields],
                        field_id=self.field_id[fields], log10_m200c=truth_mass,
                        is_member=truth_member, halo_id=halo)

    def select_galaxies(self, keep: np.ndarray) -> FieldSet:
        """The same fields with only the galaxies where ``keep`` (per galaxy) is true."""
        keep = np.asarray(keep, bool)
        field = np.repeat(np.arange(self.n_fields), self.n_galaxies)
        counts = np.bincount(field[keep], minlength=self.n_fields)
        return FieldSet(offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                        x=self.x[keep], y=self.y[keep], v_los=self.v_los[keep],
                        mag_r=self.mag_r[keep], z_cl=self.z_cl, mag_lim_abs=self.mag_lim_abs,
                        field_id=self.field_id, log10_m200c=self.log10_m200c,
                        is_member=None if self.is_member is None else self.is_member[keep],
                        halo_id=self.halo_id)


def ragged_rows(offsets: np.ndarray, fields: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Galaxy row indices of ``fields`` (concatenated) and the offsets of that selection."""
    starts, counts = offsets[fields], offsets[fields + 1] - offsets[fields]
    new_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    within = np.arange(new_offsets[-1]) - np.repeat(new_offsets[:-1], counts)
    return np.repeat(starts, counts) + within, new_offsets


def pad(values: np.ndarray, offsets: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Ragged per-galaxy ``values`` (n_gal, ...) -> (n_fields, n_max, ...) padded with ``fill``."""
    counts = np.diff(offsets)
    n_max = int(counts.max()) if len(counts) else 0
    out = np.full((len(counts), n_max) + values.shape[1:], fill, dtype=values.dtype)
    col = np.arange(len(values)) - np.repeat(offsets[:-1], counts)
    out[np.repeat(np.arange(len(counts)), counts), col] = values
    return out


def padding_mask(offsets: np.ndarray) -> np.ndarray:
    """(n_fields, n_max) boolean mask, True where a galaxy is present."""
    counts = np.diff(offsets)
    n_max = int(counts.max()) if len(counts) else 0
    return np.arange(n_max)[None, :] < counts[:, None]


def _column(table, name: str, where: str) -> np.ndarray:
    if name not in table.colnames:
        raise InputError(f"{where} lacks column {name!r} (has {table.colnames}); the training "
                         "set format is described in docs/architecture.md — rebuild it with "
                         "`surveymass mocks`")
    return np.asarray(table[name])


def fieldset_from_tables(fields, galaxies, where: str = "training set",
                         require_truth: bool = True) -> FieldSet:
    """A :class:`FieldSet` from FIELDS and GALAXIES astropy tables of the training-set format.

    Galaxies are grouped by ``field_id`` in the order of the FIELDS table; every field must
    hold at least one galaxy. ``require_truth`` demands the truth columns.
    """
    if len(fields) == 0:
        raise InputError(f"{where} has no fields (empty split): make the split larger")
    field_id = _column(fields, "field_id", f"{where} FIELDS")
    gal_field = _column(galaxies, "field_id", f"{where} GALAXIES")
    order = np.argsort(gal_field, kind="stable")
    sorted_ids = gal_field[order]
    starts = np.searchsorted(sorted_ids, field_id, side="left")
    ends = np.searchsorted(sorted_ids, field_id, side="right")
    if np.any(ends == starts):
        missing = field_id[ends == starts][:5]
        raise InputError(f"{where}: field(s) {missing.tolist()} have no galaxies in GALAXIES")
    counts = ends - starts
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    rows = order[np.repeat(starts, counts) + np.arange(offsets[-1])
                 - np.repeat(offsets[:-1], counts)]

    def gal(name):
        return _column(galaxies, name, f"{where} GALAXIES")[rows].astype(float)

    truth = require_truth or all(c in fields.colnames for c in TRUTH_FIELD_COLUMNS)
    return FieldSet(
        offsets=offsets, x=gal("x"), y=gal("y"), v_los=gal("v_los"), mag_r=gal("mag_r"),
        z_cl=_column(fields, "z_cl", f"{where} FIELDS").astype(float),
        mag_lim_abs=_column(fields, "mag_lim_abs", f"{where} FIELDS").astype(float),
        field_id=field_id,
        log10_m200c=(_column(fields, "log10_m200c", f"{where} FIELDS").astype(float)
                     if truth else None),
        is_member=(_column(galaxies, "is_member", f"{where} GALAXIES")[rows].astype(bool)
                   if truth else None),
        halo_id=np.asarray(fields["halo_id"]) if "halo_id" in fields.colnames else None,
    )
