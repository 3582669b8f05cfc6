"""False-positive rates of the ``centre_sensitive`` and ``redshift_offset`` flags on mock
fields (docs/user_guide.md, "Flags"): the shipped bundle on a held-out split, the centre
moved as ``infer`` moves it. A stored mock field holds only its aperture's galaxies, so a
moved centre loses galaxies at one edge and gains none at the other; the rates are given
both so (an upper bound) and with the lost galaxies put back at the opposite edge (a
velocity offset wraps them to the other end of the window; a sky offset mirrors them
across the line through the centre perpendicular to the offset, which maps the lost
crescent onto the gained one with the same area and radii).

    python benchmarks/centre_flag_rates.py /work/scratch/ts_s1 test
"""

import sys
import warnings

import numpy as np

from surveymass.inference import infer
from surveymass.models.bundle import load_bundle
from surveymass.models.datasets import load_split
from surveymass.models.predict import fields_for_bundle, predict
from surveymass.observe import ObservedField
from surveymass.phasespace import PhaseSpace


def as_field(ps: PhaseSpace, aperture) -> ObservedField:
    """A field read back from a training set: every galaxy observed, cut to ``aperture``."""
    return ObservedField(ps, np.ones(len(ps.x), bool), aperture.contains(ps), aperture)


def filled(ps: PhaseSpace, offset, aperture) -> PhaseSpace:
    """``ps`` about the moved centre with the galaxies the move drops put back at the
    opposite edge of the aperture."""
    dx, dy, dv = offset
    moved = as_field(ps, aperture).recentred(dx, dy, dv).phase_space
    x, y, v = moved.x.copy(), moved.y.copy(), moved.v_los.copy()
    if dv:
        v = np.where(np.abs(v) > aperture.v_max, v - np.sign(v) * 2 * aperture.v_max, v)
    lost = moved.r > aperture.r_max
    if dx:
        x[lost] = -ps.x[lost]
        y[lost] = ps.y[lost]
    if dy:
        x[lost] = ps.x[lost]
        y[lost] = -ps.y[lost]
    return PhaseSpace(x, y, np.hypot(x, y), v)


def medians(bundle, spaces, mags, z, offsets) -> np.ndarray:
    """Like infer.centre_offset_medians with the edge galaxies put back (see filled)."""
    moved = [as_field(filled(ps, o, bundle.aperture), bundle.aperture)
             for ps, row in zip(spaces, offsets) for o in row]
    k = offsets.shape[1]
    fs = fields_for_bundle(bundle, moved, [m for m in mags for _ in range(k)], np.repeat(z, k))
    return predict(bundle, fs, n_samples=infer.CENTRE_SAMPLES, seed=0,
                   device="cpu").median.reshape(len(spaces), k)


def main(folder: str, split: str) -> None:
    warnings.simplefilter("ignore")
    bundle, fields = load_bundle(), load_split(folder, split)
    rows = [slice(a, b) for a, b in zip(fields.offsets[:-1], fields.offsets[1:])]
    spaces = [PhaseSpace(fields.x[s], fields.y[s], np.hypot(fields.x[s], fields.y[s]),
                         fields.v_los[s]) for s in rows]
    mags = [fields.mag_r[s] for s in rows]
    observed = [as_field(ps, bundle.aperture) for ps in spaces]
    z = fields.z_cl
    p = predict(bundle, fields, n_samples=1000, seed=0, device="cpu")
    p16, median, p84 = np.percentile(p.samples, [16, 50, 84], axis=1)
    dv = infer.centre_velocity_uncertainty(p.sigma, p.n_members)
    new = infer.centre_offsets(dv)
    old = infer.centre_offsets(np.full(len(z), 200.0))
    out = dict(log10_m200c=fields.log10_m200c, n_galaxies=fields.n_galaxies,
               n_members=p.n_members, sigma=p.sigma, median=median, p16=p16, p84=p84,
               dv=dv, redshift_offset=infer.redshift_offset(fields, p.sigma, p.n_members),
               plain_new=infer.centre_offset_medians(bundle, observed, mags, z, new, 1000, 0,
                                                     "cpu"),
               plain_v200=infer.centre_offset_medians(bundle, observed, mags, z, old[:, 4:],
                                                      1000, 0, "cpu"),
               filled_new=medians(bundle, spaces, mags, z, new))
    np.savez(f"/tmp/centre_flag_rates_{split}.npz", **out)
    report(out)


def report(d) -> None:
    m, width = d["log10_m200c"], d["p84"] - d["p16"]
    moved = {k: np.abs(d[k] - d["median"][:, None]) > width[:, None]
             for k in ("plain_new", "plain_v200", "filled_new")}
    checks = {
        "before: sky +-0.15 and +-200 km/s (edge lost)": np.hstack(
            [moved["plain_new"][:, :4], moved["plain_v200"]]).any(1),
        "sky +-0.15, edge lost": moved["plain_new"][:, :4].any(1),
        "sky +-0.15, edge put back": moved["filled_new"][:, :4].any(1),
        "+-200 km/s, edge lost": moved["plain_v200"].any(1),
        "+-max(sigma/sqrt(N), floor), edge lost": moved["plain_new"][:, 4:].any(1),
        "+-max(sigma/sqrt(N), floor), edge put back": moved["filled_new"][:, 4:].any(1),
        "after: centre_sensitive (edge lost)": moved["plain_new"].any(1),
        "after: centre_sensitive (edge put back)": moved["filled_new"].any(1),
        "after: redshift_offset": d["redshift_offset"] > infer.REDSHIFT_OFFSET,
    }
    checks["after: either (edge put back)"] = (checks["after: redshift_offset"]
                                              | checks["after: centre_sensitive (edge put back)"])
    weighed = (d["n_members"] >= 2) & np.isfinite(d["sigma"])
    print(f"fields: {len(m)} ({weighed.sum()} weighed); rates all | 14 <= log M <= 15")
    band = (m >= 14) & (m <= 15)
    for name, hit in checks.items():
        print(f"  {name:48s} {np.mean(hit[weighed]):6.3f} | {np.mean(hit[weighed & band]):6.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
