"""Scatter of log10 N_members at fixed mass and the share of galaxies beyond R = 1.2 and
inside 0.4 h^-1 Mpc in SDSS Legacy cylindrical mock fields, without and with the default
galaxy-halo prior (docs/synthetic_universe.md, "Galaxy-halo nuisance parameters").

    python -m surveymass universe --box 300 -o u300.h5
    python benchmarks/galaxy_halo_scatter.py u300.h5 none
    python benchmarks/galaxy_halo_scatter.py u300.h5 default
"""

import sys
import warnings

import numpy as np

from surveymass.mocks.config import MockConfig
from surveymass.mocks.fields import FieldMaker
from surveymass.mocks.lines_of_sight import HaloDirections
from surveymass.survey import load_survey
from surveymass.universe.store import read_universe
from surveymass.universe.synthetic.nuisance import load_prior


def main(path: str, prior: str) -> None:
    universe = read_universe(path)
    warnings.simplefilter("ignore")
    maker = FieldMaker(universe, load_survey("sdss_legacy"),
                       MockConfig(galaxy_halo=load_prior(prior)), seed=0)
    directions = HaloDirections(8, 0)
    log_m = np.log10(universe.halos["m200c"])
    for lo, hi in ((13.9, 14.1), (14.4, 14.6)):
        rows = np.flatnonzero((log_m > lo) & (log_m < hi))
        counts, radii = [], []
        for row in rows.tolist():
            halo_id = int(universe.halos["halo_id"][row])
            for j in range(3):
                field = maker.make(row, directions.direction(halo_id, j), j, z_cos=0.07)
                if field is not None:
                    counts.append(field.row["n_members"])
                    radii.append(field.galaxies["r"])
        counts, r = np.array(counts), np.concatenate(radii)
        print(f"{prior} log M {lo}-{hi}: {rows.size} halos, {counts.size} fields, median "
              f"N_members {np.median(counts):.0f}, std log10 N_members "
              f"{np.std(np.log10(counts[counts > 0])):.3f}, R > 1.2: {np.mean(r > 1.2):.3f}, "
              f"R < 0.4: {np.mean(r < 0.4):.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
