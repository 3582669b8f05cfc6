"""Training sets on disk: a folder with ``manifest.json`` and one FITS file per split.

Layout (docs/architecture.md, "Training sets")::

    DIR/manifest.json        format, version, universe and survey provenance, setup,
                             aperture, seeds, mass bins, counts and interloper fractions
    DIR/train.fits, val.fits, test.fits, test_natural.fits
        extension FIELDS     one row per field (FIELD_COLUMNS, and NUISANCE_COLUMNS when
                             the manifest's setup has a galaxy_halo prior)
        extension GALAXIES   one row per galaxy, grouped by field (GALAXY_COLUMNS): the
                             galaxies of field i are rows gal_start[i] : gal_start[i] +
                             n_galaxies[i]

Splits are by halo: all lines of sight of a halo are in one split (:func:`assign_splits`).
``test_natural`` holds test-split halos with one line of sight each, drawn uniformly from
the halos, so that its masses follow the universe's mass function.
Read with :func:`read_training_set`, which checks the format version and the columns.
Version 2 added the galaxy-halo nuisance columns and the manifest's ``setup.galaxy_halo``
(the prior, or null); version 1 sets (without them) are still read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table

from surveymass.errors import InputError
from surveymass.mocks.config import MassBins
from surveymass.outputs import Folder, staged_outputs
from surveymass.universe.synthetic.nuisance import COLUMN_PREFIX, DEVIATE_COLUMN, PARAMETERS

FORMAT = "surveymass-trainingset"
VERSION = 2
#: Versions this surveymass reads.
READABLE_VERSIONS = (1, 2)
SPLITS = ("train", "val", "test", "test_natural")
MANIFEST = "manifest.json"

#: name -> (unit, description)
FIELD_COLUMNS: dict[str, tuple[str, str]] = {
    "field_id": ("", "unique id of the field in the training set"),
    "halo_id": ("", "universe halo id of the target cluster"),
    "los_index": ("", "line of sight number of the halo"),
    "los_x": ("", "line of sight unit vector in the box"),
    "los_y": ("", "line of sight unit vector in the box"),
    "los_z": ("", "line of sight unit vector in the box"),
    "log10_m200c": ("dex(Msun/h)", "true mass of the target halo"),
    "z_cl": ("", "cluster redshift (observed redshift of the halo centre)"),
    "ra_cl": ("deg", "cluster position"),
    "dec_cl": ("deg", "cluster position"),
    "n_galaxies": ("", "galaxies in the field (after survey selection and aperture)"),
    "n_members": ("", "of which members of the target halo"),
    "mag_lim_abs": ("mag", "limiting absolute magnitude M_r - 5 log h at z_cl"),
    "split": ("", "train, val, test or test_natural"),
    "gal_start": ("", "first row of the field's galaxies in GALAXIES"),
}
#: Drawn galaxy-halo nuisance values per field (sets made with a galaxy_halo prior).
NUISANCE_COLUMNS: dict[str, tuple[str, str]] = {
    **{COLUMN_PREFIX + name: (p.unit, p.meaning) for name, p in PARAMETERS.items()},
    DEVIATE_COLUMN: ("dex", "log10 factor drawn on the mean satellite number"),
}
GALAXY_COLUMNS: dict[str, tuple[str, str]] = {
    "field_id": ("", "field the galaxy belongs to"),
    "galaxy_id": ("", "universe galaxy id (< 0: repainted satellite)"),
    "ra": ("deg", "position"),
    "dec": ("deg", "position"),
    "z": ("", "observed redshift (with measurement error)"),
    "z_err": ("", "1-sigma redshift error"),
    "mag_r": ("mag", "apparent r magnitude"),
    "x": ("Mpc/h", "projected position east (sky_to_phase_space)"),
    "y": ("Mpc/h", "projected position north"),
    "r": ("Mpc/h", "projected radius"),
    "v_los": ("km/s", "rest-frame line-of-sight velocity"),
    "is_member": ("", "truth: hosted by the target halo"),
    "host_id": ("", "truth: universe id of the host halo"),
    "host_log10_m200c": ("dex(Msun/h)", "truth: mass of the host halo"),
    "is_central": ("", "truth: central galaxy of its host"),
}


def assign_splits(halo_ids: np.ndarray, log_mass: np.ndarray, bins: MassBins,
                  fractions: tuple[float, float, float], seed: int) -> dict[int, str]:
    """Split halos into train/val/test with the given fractions, separately in each mass
    bin (so every split spans the mass range); returns halo_id -> split."""
    fractions = np.asarray(fractions, float)
    if fractions.shape != (3,) or np.any(fractions < 0) or not np.isclose(fractions.sum(), 1):
        raise InputError(f"split fractions {tuple(fractions)} must be three non-negative "
                         "numbers (train, val, test) summing to 1")
    rng = np.random.default_rng([seed, 3])
    which = bins.index(log_mass)
    names = np.array(SPLITS[:3])
    out: dict[int, str] = {}
    for b in range(bins.n_bins):
        ids = rng.permutation(halo_ids[which == b])
        cuts = np.round(np.cumsum(fractions)[:2] * len(ids)).astype(int)
        labels = names[np.searchsorted(cuts, np.arange(len(ids)), side="right")]
        out.update(zip(ids.tolist(), labels.tolist()))
    return out


def summarize(fields: Table, galaxies: Table, bins: MassBins) -> dict:
    """Per mass bin: fields, galaxies per field and interloper fraction (galaxy-weighted)."""
    which = bins.index(np.asarray(fields["log10_m200c"], float))
    n_gal = np.asarray(fields["n_galaxies"], float)
    n_mem = np.asarray(fields["n_members"], float)
    rows = []
    for b in range(bins.n_bins):
        sel = which == b
        total = n_gal[sel].sum()
        rows.append({"log10_m200c_min": round(float(bins.edges[b]), 4),
                     "log10_m200c_max": round(float(bins.edges[b + 1]), 4),
                     "n_fields": int(sel.sum()),
                     "mean_galaxies": float(n_gal[sel].mean()) if sel.any() else None,
                     "interloper_fraction": (float(1 - n_mem[sel].sum() / total)
                                             if total else None)})
    return {"n_fields": len(fields), "n_galaxies": len(galaxies), "per_mass_bin": rows}


def output_folder(path: str | Path) -> Folder:
    """A training-set folder as an output (:mod:`surveymass.outputs`): marked by its
    manifest."""
    return Folder(Path(path), MANIFEST, "training set")


def write_training_set(path: str | Path, splits: dict[str, tuple[Table, Table]],
                       manifest: dict, overwrite: bool = False) -> Path:
    """Write ``splits`` (name -> (fields, galaxies)) and the manifest into folder ``path``.

    The files are written into a temporary folder that then replaces ``path`` as a whole
    (an existing training set only with ``overwrite``), so a folder with a manifest is
    complete."""
    path = Path(path)
    unknown = set(splits) - set(SPLITS)
    if unknown:
        raise InputError(f"unknown split(s) {sorted(unknown)}; splits are {SPLITS}")
    record = {"format": FORMAT, "version": VERSION, **manifest}
    stamp = json.dumps(record.get("provenance", {}), default=_json_default)
    spec = field_columns(record)
    with staged_outputs([output_folder(path)], overwrite) as (tmp,):
        for name, (fields, galaxies) in splits.items():
            _write_split(tmp / f"{name}.fits", name, fields, galaxies, stamp, spec)
        (tmp / MANIFEST).write_text(json.dumps(record, indent=1, default=_json_default))
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in the manifest")


def field_columns(manifest: dict) -> dict[str, tuple[str, str]]:
    """The FIELDS columns a training set with ``manifest`` holds: FIELD_COLUMNS, plus
    NUISANCE_COLUMNS when its fields were drawn with a galaxy-halo prior."""
    if manifest.get("setup", {}).get("galaxy_halo"):
        return {**FIELD_COLUMNS, **NUISANCE_COLUMNS}
    return FIELD_COLUMNS


def require_nuisance_columns(fields: Table, manifest: dict) -> None:
    """Raise :class:`InputError` unless ``fields`` hold the drawn nuisance values (for
    options that need them)."""
    missing = [c for c in NUISANCE_COLUMNS if c not in fields.colnames]
    if missing or not manifest.get("setup", {}).get("galaxy_halo"):
        raise InputError("this training set records no galaxy-halo nuisance values (made "
                         "without a galaxy-halo prior, or before format version 2): rebuild "
                         "it with 'surveymass mocks --galaxy-halo default'")


def _write_split(target: Path, name: str, fields: Table, galaxies: Table,
                 provenance_json: str, field_spec: dict) -> None:
    header = fits.Header()
    header["FORMAT"] = FORMAT
    header["VERSION"] = VERSION
    header["SPLIT"] = name
    header["PROVENAN"] = provenance_json
    hdus = [fits.PrimaryHDU(header=header)]
    for extname, table, spec in (("FIELDS", fields, field_spec),
                                 ("GALAXIES", galaxies, GALAXY_COLUMNS)):
        _check_columns(table, spec, f"{name} {extname}", target)
        hdu = fits.table_to_hdu(Table(table, copy=False))
        hdu.name = extname
        for i, column in enumerate(hdu.columns.names, start=1):
            if column in spec:  # unit and meaning as the TTYPE comment (one card: 40 chars)
                unit, doc = spec[column]
                hdu.header.comments[f"TTYPE{i}"] = (f"[{unit}] {doc}" if unit else doc)[:40]
        hdus.append(hdu)
    fits.HDUList(hdus).writeto(target)


def _check_columns(table: Table, spec: dict, what: str, where: Path) -> None:
    missing = [c for c in spec if c not in table.colnames]
    if missing:
        raise InputError(f"{where}: the {what} table lacks column(s) {missing}; this "
                         "training set is damaged or was not written by 'surveymass mocks'")


def read_manifest(path: str | Path) -> dict:
    """The manifest of training set folder ``path`` (format and version checked)."""
    path = Path(path)
    file = path / MANIFEST
    if not file.exists():
        raise InputError(f"{path} is not a training set: no {MANIFEST} (make one with "
                         "'surveymass mocks')")
    try:
        manifest = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{file} is not valid JSON ({exc}); rebuild the training set") from exc
    if manifest.get("format") != FORMAT:
        raise InputError(f"{file} is not a surveymass training set (format "
                         f"{manifest.get('format')!r})")
    if manifest.get("version") not in READABLE_VERSIONS:
        raise InputError(f"{path} has training-set format version {manifest.get('version')}; "
                         f"this surveymass reads versions {READABLE_VERSIONS}: rebuild it "
                         "with 'surveymass mocks'")
    return manifest


def read_training_set(path: str | Path, split: str) -> tuple[Table, Table, dict]:
    """(fields, galaxies, manifest) of one split of the training set in folder ``path``.

    Raises :class:`InputError` for a wrong format version, a missing file or column, or
    an empty split."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose one of {SPLITS}")
    manifest = read_manifest(path)
    file = Path(path) / f"{split}.fits"
    if not file.exists():
        raise InputError(f"training set {path} has no {split} split ({file.name} missing)")
    with fits.open(file) as hdul:
        if hdul[0].header.get("VERSION") != manifest["version"]:
            raise InputError(f"{file} has format version {hdul[0].header.get('VERSION')}, "
                             f"its manifest {manifest['version']}: rebuild the training set")
        try:
            fields = Table.read(hdul["FIELDS"])
            galaxies = Table.read(hdul["GALAXIES"])
        except KeyError as exc:
            raise InputError(f"{file} lacks the FIELDS or GALAXIES extension") from exc
    _check_columns(fields, field_columns(manifest), f"{split} FIELDS", file)
    _check_columns(galaxies, GALAXY_COLUMNS, f"{split} GALAXIES", file)
    if len(fields) == 0:
        raise InputError(f"the {split} split of {path} is empty: build the training set with "
                         "more fields or other split fractions")
    return fields, galaxies, manifest
