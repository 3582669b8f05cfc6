"""The shipped literature table of cluster masses and the conversions that build it.

``surveymass/data/catalogs/literature_masses.ecsv`` holds one row per (cluster, reference):
the mass as log10 M200c [h^-1 Msun] with its (possibly asymmetric) 1-sigma errors in dex, plus the
value as originally published (quantity, mass definition, h convention, concentration)
and the conversion applied. It is rebuilt from the hand-entered
``surveymass/data/catalogs/literature_masses_sources.csv`` (and, optionally, the HeCS files in
shared/data) by::

    python -m surveymass.inference.literature --hecs-dir ../shared/data/real/literature

Mass definitions are converted with colossus (``changeMassDefinition`` for an NFW halo,
with the published concentration when there is one, else the Ishiyama et al. 2021
concentration model, calibrated on Uchuu, the simulation behind the shipped models).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np
from astropy.table import QTable, Table

from surveymass.cosmology import colossus_cosmology, default_cosmology
from surveymass.errors import InputError
from surveymass.paths import CATALOGS
from surveymass.provenance import atomic_path, provenance

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

LITERATURE_TABLE = CATALOGS / "literature_masses.ecsv"
LITERATURE_SOURCES = CATALOGS / "literature_masses_sources.csv"
DEFAULT_C_MODEL = "ishiyama21"
TARGET_MDEF = "200c"

HECS_TABLE1 = "HeCS_Rines2013_J_ApJ_767_15_table1.dat"
HECS_MASSES = "HeCS_Rines2013_table4_caustic_masses_transcribed.tsv"
HECS_REFERENCE = "Rines et al. 2013, ApJ 767, 15 (HeCS), Table 4"
HECS_BIBCODE = "2013ApJ...767...15R"


@dataclass(frozen=True)
class PublishedMass:
    """A mass as published: ``value`` with errors, linear (1e14 Msun) or log10 (Msun).

    ``h`` is the Hubble convention of the quoted number: 1.0 for h^-1 Msun, 0.7 for
    h_70^-1 Msun (or plain Msun computed with H0 = 70 km/s/Mpc). ``mdef`` is a colossus
    mass definition ('200c', 'vir', '500c', '200m'...). ``concentration`` is the published
    NFW concentration in that definition, NaN when not published.
    """

    value: float
    err_lo: float
    err_hi: float
    scale: str  # "linear" (units of 1e14 Msun) or "log10"
    h: float
    mdef: str
    z: float
    concentration: float = math.nan

    def bounds_h_msun(self) -> np.ndarray:
        """(M - err_lo, M, M + err_hi) in h^-1 Msun, in the published definition."""
        if self.scale == "linear":
            masses = 1e14 * np.array([self.value - self.err_lo, self.value,
                                      self.value + self.err_hi])
        elif self.scale == "log10":
            masses = 10.0 ** np.array([self.value - self.err_lo, self.value,
                                       self.value + self.err_hi])
        else:
            raise InputError(f"unknown mass scale {self.scale!r}: use 'linear' or 'log10'")
        if not masses[0] > 0:
            raise InputError(f"the lower error bound of mass {self.value} is not positive")
        return masses * self.h


def to_log10_m200c(mass: PublishedMass, cosmology: FLRW | None = None,
                   c_model: str = DEFAULT_C_MODEL) -> tuple[float, float, float, str]:
    """Convert a published mass to log10 M200c [h^-1 Msun] with errors [dex].

    Returns ``(log10_m200c, err_lo, err_hi, conversion)``; ``conversion`` says in words
    what was done. The error bounds go through the same conversion as the value.
    """
    masses = mass.bounds_h_msun()
    steps = [] if mass.h == 1.0 else [f"x{mass.h:g} (h={mass.h:g} -> h^-1 Msun)"]
    if mass.mdef != TARGET_MDEF:
        masses = _change_definition(masses, mass, cosmology or default_cosmology(), c_model)
        c_used = (f"published c_{mass.mdef}={mass.concentration:g}"
                  if np.isfinite(mass.concentration) else f"c from {c_model}")
        steps.append(f"NFW {mass.mdef} -> {TARGET_MDEF} with colossus, {c_used}")
    logs = np.log10(masses)
    return (float(logs[1]), float(logs[1] - logs[0]), float(logs[2] - logs[1]),
            "; ".join(steps) or "none")


def _change_definition(masses_h: np.ndarray, mass: PublishedMass, cosmology: FLRW,
                       c_model: str) -> np.ndarray:
    from colossus.halo import mass_adv, mass_defs

    colossus_cosmology(cosmology)
    try:
        if np.isfinite(mass.concentration):
            converted = mass_defs.changeMassDefinition(
                masses_h, mass.concentration, mass.z, mass.mdef, TARGET_MDEF)[0]
        else:
            converted = mass_adv.changeMassDefinitionCModel(
                masses_h, mass.z, mass.mdef, TARGET_MDEF, c_model=c_model)[0]
    except Exception as exc:  # colossus raises bare Exceptions for unknown definitions
        raise InputError(f"cannot convert mass definition {mass.mdef!r} to {TARGET_MDEF}: "
                         f"{exc}. Use a colossus definition such as '500c', 'vir', '200m'.") \
            from exc
    return np.asarray(converted, dtype=float)


def build_literature_table(sources: Table, cosmology: FLRW | None = None,
                           c_model: str = DEFAULT_C_MODEL) -> QTable:
    """The literature table (see module doc) from raw ``sources`` rows (the sources CSV)."""
    rows = []
    for src in sources:
        published = PublishedMass(
            value=float(src["value"]), err_lo=float(src["err_lo"]),
            err_hi=float(src["err_hi"]), scale=str(src["scale"]), h=float(src["h"]),
            mdef=str(src["mdef"]), z=float(src["z"]),
            concentration=_float_or_nan(src["concentration"]))
        log_m, lo, hi, conversion = to_log10_m200c(published, cosmology, c_model)
        rows.append({**{k: src[k] for k in sources.colnames}, "log10_m200c": log_m,
                     "log10_m200c_err_lo": lo, "log10_m200c_err_hi": hi,
                     "conversion": conversion})
    table = QTable(rows=rows)
    table.rename_columns(["value", "err_lo", "err_hi", "scale", "h", "mdef"],
                         ["orig_value", "orig_err_lo", "orig_err_hi", "orig_scale",
                          "orig_h", "orig_mdef"])
    order = ["name", "ra", "dec", "z", "log10_m200c", "log10_m200c_err_lo",
             "log10_m200c_err_hi", "reference", "bibcode", "quantity", "orig_mdef",
             "orig_value", "orig_err_lo", "orig_err_hi", "orig_scale", "orig_h",
             "concentration", "conversion", "quoted_in", "position_source", "flags"]
    table = table[order]
    table["ra"].unit = table["dec"].unit = u.deg
    for name in ("log10_m200c", "log10_m200c_err_lo", "log10_m200c_err_hi"):
        table[name].info.format = ".3f"
    table.meta["description"] = ("Published dynamical masses as log10 M200c [h^-1 Msun] "
                                 "(errors in dex); orig_* columns give the value as "
                                 "published (linear: 1e14 Msun; log10: dex), with orig_h "
                                 "its h convention.")
    table.meta["c_model"] = c_model
    return table


def _float_or_nan(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def read_sources(path: str | Path = LITERATURE_SOURCES) -> Table:
    """The hand-entered literature sources (CSV with '#' comments)."""
    table = Table.read(path, format="ascii.csv", comment="#")
    for name in ("ra", "dec", "z", "value", "err_lo", "err_hi", "h", "concentration"):
        table[name] = table[name].astype(float)
    for name in table.colnames:
        if hasattr(table[name], "filled"):
            table[name] = table[name].filled(np.nan if table[name].dtype.kind == "f" else "")
    return table


def hecs_sources(hecs_dir: str | Path) -> Table:
    """Caustic M200c of the 58 HeCS clusters (Rines et al. 2013) as source rows.

    Positions and redshifts come from the byte-exact VizieR table1; masses from a
    third-party transcription of the paper's Table 4 (flagged ``transcribed``). The
    masses are in 1e14 h^-1 Msun: M200 = (4/3) pi 200 rho_c(z) r200^3 holds for the
    transcribed M200 and r200 in h^-1 units (checked in tests/test_compare.py).
    """
    hecs_dir = Path(hecs_dir)
    positions = {}
    for line in (hecs_dir / HECS_TABLE1).read_text().splitlines():
        fields = [f.strip() for f in line.split("|")]
        positions[fields[0]] = tuple(float(f) for f in fields[1:4])
    masses = Table.read(hecs_dir / HECS_MASSES, format="ascii.tab")
    rows = []
    for row in masses:
        ra, dec, z = positions[row["cluster"]]
        rows.append({
            "name": row["cluster"], "ra": ra, "dec": dec, "z": z,
            "position_source": "Rines et al. 2013, VizieR J/ApJ/767/15 table1",
            "quantity": "caustic M200", "mdef": "200c", "value": float(row["M200e14"]),
            "err_lo": float(row["M200err"]), "err_hi": float(row["M200err"]),
            "scale": "linear", "h": 1.0, "concentration": math.nan,
            "reference": HECS_REFERENCE, "bibcode": HECS_BIBCODE, "quoted_in": "",
            "flags": "transcribed" + (";zero_error" if float(row["M200err"]) == 0 else ""),
        })
    return Table(rows=rows)


def write_literature_table(path: str | Path = LITERATURE_TABLE,
                           sources_path: str | Path = LITERATURE_SOURCES,
                           hecs_dir: str | Path | None = None) -> QTable:
    """Build the literature table and write it (ECSV, with provenance) to ``path``."""
    from astropy.table import vstack

    sources = read_sources(sources_path)
    inputs = [str(sources_path)]
    if hecs_dir is not None:
        hecs = hecs_sources(hecs_dir)
        sources = vstack([sources, hecs[sources.colnames]])
        inputs += [str(Path(hecs_dir) / HECS_TABLE1), str(Path(hecs_dir) / HECS_MASSES)]
    table = build_literature_table(sources)
    table.meta["provenance"] = provenance(inputs=inputs)
    with atomic_path(path) as tmp:
        table.write(tmp, format="ascii.ecsv")
    return table


def load_literature_table(path: str | Path = LITERATURE_TABLE) -> QTable:
    """The shipped literature table (or another written by :func:`write_literature_table`)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"literature table {path} not found; rebuild it with "
                         "`python -m surveymass.inference.literature`")
    table = QTable.read(path, format="ascii.ecsv")
    for name in table.colnames:
        if hasattr(table[name], "filled") and table[name].dtype.kind in "US":
            table[name] = table[name].filled("")
    return table


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Rebuild surveymass/data/catalogs/literature_masses.ecsv")
    parser.add_argument("--hecs-dir", help="folder with the HeCS files (shared/data/real/"
                        "literature); without it the HeCS rows are left out")
    parser.add_argument("-o", "--output", default=str(LITERATURE_TABLE))
    args = parser.parse_args(argv)
    table = write_literature_table(args.output, hecs_dir=args.hecs_dir)
    print(f"wrote {len(table)} rows to {args.output}")


if __name__ == "__main__":
    _main()
