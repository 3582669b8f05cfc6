"""How typical a field is of the mocks a bundle was trained on (the misspecification check).

A posterior is only as good as the simulator's resemblance to the sky. For every field a few
mass-free summaries of what the pipeline saw are compared with the same summaries of mock
fields (a held-out split, run through the same bundle) that are alike in the conditioning
quantities, and reported as percentiles:

* ``log10_n_galaxies``: galaxies in the aperture, at fixed velocity dispersion and redshift
  (richness at fixed sigma; the dispersion of the shifting gapper's members,
  :func:`surveymass.models.membership.gapper_dispersion`, which needs no classifier: the
  classifier's own members follow the richness it sees);
* ``outer_fraction``: fraction of the aperture's galaxies beyond ``OUTER_RADIUS``;
* ``interloper_fraction``: 1 - members / galaxies (the classifier's view of the field);
* ``msigma_tension``: (posterior median - M–sigma) / posterior standard deviation;

the last three at fixed inferred mass (posterior median) and redshift. "Alike" means the
``N_NEIGHBOURS`` nearest mock fields in the conditioning variables scaled by ``SCALES``. A
field with any percentile outside [``LOW``, ``HIGH``] is flagged ``misspecified``: it does
not look like the fields the posterior was calibrated on, whatever its width says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import Table
from scipy.spatial import cKDTree

from surveymass.errors import InputError
from surveymass.models.data import FieldSet
from surveymass.models.membership import gapper_dispersion
from surveymass.provenance import atomic_path, file_sha256

#: Projected radius beyond which a galaxy counts as "outer" [comoving h^-1 Mpc].
OUTER_RADIUS = 1.0
#: Mock fields each percentile is computed from.
N_NEIGHBOURS = 200
#: Percentile band [%] inside which a field counts as typical (each summary).
LOW, HIGH = 1.0, 99.0
#: Scales of the conditioning variables for the neighbour search.
SCALES = {"log10_sigma_gapper": 0.05, "log10_m_median": 0.1, "z_cl": 0.01}
#: Each summary and the variables it is conditioned on.
SUMMARIES = {
    "log10_n_galaxies": ("log10_sigma_gapper", "z_cl"),
    "outer_fraction": ("log10_m_median", "z_cl"),
    "interloper_fraction": ("log10_m_median", "z_cl"),
    "msigma_tension": ("log10_m_median", "z_cl"),
}
DESCRIPTIONS = {
    "log10_n_galaxies": "richness (galaxies in the aperture) at fixed sigma and z",
    "outer_fraction": f"fraction of aperture galaxies beyond R = {OUTER_RADIUS} h^-1 Mpc "
                      "at fixed inferred mass and z",
    "interloper_fraction": "classifier interloper fraction at fixed inferred mass and z",
    "msigma_tension": "(posterior median - M-sigma) / posterior std at fixed inferred mass "
                      "and z",
}


def summaries(fields: FieldSet, n_members: np.ndarray, log10_m_sigma: np.ndarray,
              samples: np.ndarray) -> Table:
    """The conditioning variables and summaries of each field (one row per field), from
    the classifier's member counts, the M–sigma masses and the posterior draws."""
    n = fields.n_galaxies.astype(float)
    field = np.repeat(np.arange(fields.n_fields), fields.n_galaxies)
    bounds = fields.offsets
    radii = np.hypot(fields.x, fields.y)
    log_sigma_gapper, _ = gapper_dispersion(
        [radii[a:b] for a, b in zip(bounds[:-1], bounds[1:])],
        [fields.v_los[a:b] for a, b in zip(bounds[:-1], bounds[1:])])
    outer = np.bincount(field, radii > OUTER_RADIUS,
                        minlength=fields.n_fields)
    median = np.median(samples, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return Table({
            "z_cl": np.asarray(fields.z_cl, float),
            "log10_sigma_gapper": log_sigma_gapper,
            "log10_m_median": median,
            "log10_n_galaxies": np.log10(n),
            "outer_fraction": outer / n,
            "interloper_fraction": 1.0 - n_members / n,
            "msigma_tension": (median - log10_m_sigma) / np.std(samples, axis=1),
        })


@dataclass
class Reference:
    """Summaries of held-out mock fields run through the bundle (a table with the columns
    of :func:`summaries`)."""

    table: Table

    def __post_init__(self) -> None:
        missing = sorted({*SCALES, *SUMMARIES} - set(self.table.colnames))
        if missing:
            raise InputError(f"the typicality reference lacks the columns {missing}")
        good = np.all([np.isfinite(self.table[c]) for c in self.table.colnames], axis=0)
        self.table = self.table[good]
        if len(self.table) < N_NEIGHBOURS:
            raise InputError(f"the typicality reference holds {len(self.table)} usable mock "
                             f"fields; it needs at least {N_NEIGHBOURS}")
        self._trees = {cond: cKDTree(self._scaled(self.table, cond))
                       for cond in set(SUMMARIES.values())}

    @staticmethod
    def _scaled(table: Table, conditions: tuple[str, ...]) -> np.ndarray:
        return np.column_stack([np.asarray(table[c], float) / SCALES[c] for c in conditions])

    def percentiles(self, observed: Table) -> dict[str, np.ndarray]:
        """Percentile [0-100] of each summary of ``observed`` among its neighbours in the
        reference; NaN where a summary or a conditioning value is not finite."""
        out = {}
        for name, conditions in SUMMARIES.items():
            point = self._scaled(observed, conditions)
            value = np.asarray(observed[name], float)
            ok = np.isfinite(point).all(axis=1) & np.isfinite(value)
            pct = np.full(len(observed), np.nan)
            if ok.any():
                _, idx = self._trees[conditions].query(point[ok], k=N_NEIGHBOURS)
                ref = np.asarray(self.table[name], float)[idx]
                # mid-rank percentile: ties count half
                below = (ref < value[ok, None]).sum(axis=1)
                equal = (ref == value[ok, None]).sum(axis=1)
                pct[ok] = 100.0 * (below + 0.5 * equal) / N_NEIGHBOURS
            out[name] = pct
        return out


def atypical(percentiles: dict[str, np.ndarray]) -> np.ndarray:
    """True where any finite percentile lies outside [LOW, HIGH]."""
    stacked = np.column_stack(list(percentiles.values()))
    with np.errstate(invalid="ignore"):
        return np.any((stacked < LOW) | (stacked > HIGH), axis=1)


#: The reference's file in a bundle folder, and the card entry that records it.
REFERENCE_FILE = "typicality.fits"
CARD_ENTRY = "typicality"


def write_reference(folder: Path, table: Table, split: str) -> dict:
    """Write the reference ``table`` (from a held-out ``split``) into bundle ``folder``;
    returns the card entry (file, SHA-256, split, fields) that loading checks."""
    path = Path(folder) / REFERENCE_FILE
    with atomic_path(path) as tmp:
        Table(table).write(tmp, format="fits")
    return {"file": REFERENCE_FILE, "sha256": file_sha256(path),
            "split": split, "n_fields": len(table)}


def load_reference(folder: Path, entry: dict) -> Reference:
    """The reference recorded by card ``entry`` in bundle ``folder`` (checksum checked)."""
    path = Path(folder) / entry.get("file", REFERENCE_FILE)
    if not path.exists():
        raise InputError(f"{path} is missing: the bundle's card records a typicality "
                         "reference; restore the file or re-save the bundle")
    if file_sha256(path) != entry.get("sha256"):
        raise InputError(f"{path} does not match the SHA-256 its model card records: the "
                         "typicality reference was changed after the bundle was saved")
    return Reference(Table.read(path, format="fits"))
