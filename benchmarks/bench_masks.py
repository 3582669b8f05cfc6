"""Masks are cheap enough for batches: aperture coverage, mangle look-ups, fibre collisions.

Times (median of ``--repeats``, after one warm-up call that loads the maps):
- ``aperture_coverage`` of 1000 clusters (random positions, 0.02 < z < 0.1, 1.6 h^-1 Mpc)
  on the shipped SDSS Legacy HEALPix map and on the BOSS mangle outline. Target: < 1 s
  each (``surveymass fetch`` and the mocks call it per field batch);
- ``apply_fibre_collisions`` on 100,000 targets at 90 per deg^2 (the SDSS target density).
  Target: < 1 s.

    python benchmarks/bench_masks.py [--repeats 5] [--shared-data ../shared/data]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _machine import machine  # benchmarks/ is on sys.path

from surveymass.cosmology import default_cosmology
from surveymass.masks import aperture_coverage, apply_fibre_collisions, load_footprint

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 1.0




def median_time(func, repeats: int) -> float:
    func()  # warm-up: map loading and index building are not per-call costs
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shared-data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    ra, dec = rng.uniform(100, 270, 1000), rng.uniform(-10, 75, 1000)
    z = rng.uniform(0.02, 0.1, 1000)
    cosmo = default_cosmology()
    boss = load_footprint(args.shared_data / "real" / "footprints" / "boss_survey_outline.ply")
    n_targets = 100_000
    area = n_targets / 90.0
    side = np.sqrt(area)
    t_ra = rng.uniform(180, 180 + side, n_targets)
    t_dec = np.degrees(np.arcsin(rng.uniform(0, np.sin(np.radians(side)), n_targets)))

    results = {
        "aperture_coverage, 1000 clusters, SDSS Legacy HEALPix": median_time(
            lambda: aperture_coverage(ra, dec, z, 1.6, cosmo), args.repeats),
        "aperture_coverage, 1000 clusters, BOSS mangle": median_time(
            lambda: aperture_coverage(ra, dec, z, 1.6, cosmo, boss), args.repeats),
        "apply_fibre_collisions, 100,000 targets": median_time(
            lambda: apply_fibre_collisions(t_ra, t_dec, seed=1), args.repeats),
    }
    print(f"machine: {machine()}, "
          f"python {platform.python_version()}")
    failed = False
    for name, seconds in results.items():
        status = "ok" if seconds < TARGET_S else "MISSED"
        failed |= seconds >= TARGET_S
        print(f"{name}: median {seconds:.3f} s (target < {TARGET_S} s) {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
