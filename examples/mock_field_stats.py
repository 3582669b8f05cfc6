"""Galaxies per mock field, members and interloper fraction, by mass and cluster redshift.

Places up to ``--halos`` halos of each mass bin at z = 0.02, 0.05 and 0.10 (one line of
sight each, the shipped SDSS Legacy survey, cylindrical setup, fibre collisions on; a field
with fewer than 3 galaxies, the least any aperture accepts, counts as empty) and prints
the mean number of galaxies in the aperture, of members, the interloper fraction and the
fraction of fields with at least 10 galaxies::

    python examples/mock_field_stats.py UNIVERSE.h5 [--halos 60 --seed 1]
"""

from __future__ import annotations

import argparse
import warnings
from itertools import pairwise

import numpy as np

from surveymass.mocks import FieldMaker, HaloDirections, MockConfig
from surveymass.phasespace import Aperture
from surveymass.survey import load_survey
from surveymass.universe.store import read_universe

MASS_EDGES = (13.5, 13.8, 14.1, 14.4, 14.7, 15.0)
REDSHIFTS = (0.02, 0.05, 0.10)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("universe")
    parser.add_argument("--halos", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    universe = read_universe(args.universe)
    maker = FieldMaker(universe, load_survey(), MockConfig(aperture=Aperture(min_galaxies=3)),
                       seed=args.seed)
    directions = HaloDirections(1, args.seed)
    ids = universe.halos["halo_id"]
    log_mass = np.log10(universe.halos["m200c"])
    rng = np.random.default_rng(args.seed)
    print("log10 M200c  z     galaxies  members  interlopers  >=10 galaxies  halos")
    for lo, hi in pairwise(MASS_EDGES):
        rows = np.flatnonzero((log_mass >= lo) & (log_mass < hi))
        rows = rng.choice(rows, min(args.halos, len(rows)), replace=False)
        for z in REDSHIFTS:
            fields = [maker.make(r, directions.direction(ids[r], 0), 0, z_cos=z) for r in rows]
            n_gal = np.array([f.row["n_galaxies"] if f else 0 for f in fields])
            n_mem = np.array([f.row["n_members"] if f else 0 for f in fields])
            print(f"{lo:.1f}-{hi:.1f}    {z:.2f}  {n_gal.mean():8.1f} {n_mem.mean():8.1f} "
                  f"{1 - n_mem.sum() / max(n_gal.sum(), 1):11.2f} {np.mean(n_gal >= 10):13.2f}"
                  f"  {len(rows)}")


if __name__ == "__main__":
    main()
