"""The fibre-collision model: its pair statistics against the analytic expectations."""

from __future__ import annotations

import numpy as np
import pytest

from surveymass.errors import InputError
from surveymass.masks import apply_fibre_collisions, apply_survey_fibre_collisions, collision_pairs
from surveymass.masks.fibres import greedy_independent_set
from surveymass.survey import load_survey

ARCSEC = 1.0 / 3600.0


def groups(n_groups, size, spacing_arcsec, seed=0):
    """``n_groups`` copies of ``size`` galaxies on a line ``spacing_arcsec`` apart, the
    groups 0.5 deg apart on a grid near the equator (no collisions between groups)."""
    rng = np.random.default_rng(seed)
    centre_ra = 150.0 + 0.5 * (np.arange(n_groups) % 40)
    centre_dec = -10.0 + 0.5 * (np.arange(n_groups) // 40)
    angle = rng.uniform(0, np.pi, n_groups)
    offsets = (np.arange(size) - (size - 1) / 2) * spacing_arcsec * ARCSEC
    ra = (centre_ra[:, None] + np.cos(angle)[:, None] * offsets
          / np.cos(np.radians(centre_dec))[:, None])
    dec = centre_dec[:, None] + np.sin(angle)[:, None] * offsets
    return ra.ravel(), dec.ravel()


def random_field(n, seed, ra_range=(180.0, 190.0), dec_range=(20.0, 30.0)):
    rng = np.random.default_rng(seed)
    sin_lo, sin_hi = np.sin(np.radians(dec_range))
    return (rng.uniform(*ra_range, n),
            np.degrees(np.arcsin(rng.uniform(sin_lo, sin_hi, n))))


def binomial_tolerance(p, n):
    return 4 * np.sqrt(p * (1 - p) / n)


def test_isolated_galaxies_are_never_removed():
    ra, dec = groups(1000, 1, 0.0)
    assert apply_fibre_collisions(ra, dec, 55.0, 0.0, seed=1).all()


def test_isolated_pairs_keep_both_with_probability_recovery():
    n_pairs, recovery = 2000, 0.3
    ra, dec = groups(n_pairs, 2, 40.0)
    keep = apply_fibre_collisions(ra, dec, 55.0, recovery, seed=2).reshape(n_pairs, 2)
    assert keep.any(axis=1).all()  # one member of each pair always gets a fibre
    both = keep.all(axis=1).mean()
    assert both == pytest.approx(recovery, abs=binomial_tolerance(recovery, n_pairs))
    dropped = 1 - keep.mean()
    assert dropped == pytest.approx((1 - recovery) / 2,
                                    abs=binomial_tolerance(recovery, n_pairs) / 2)
    # the tiling's choice does not depend on the order of the catalogue
    first_only = keep[:, 0] & ~keep[:, 1]
    assert first_only.sum() / (~keep.all(axis=1)).sum() == pytest.approx(0.5, abs=0.06)


def test_dense_groups_keep_one_plus_recovered():
    """Groups of k mutually collided galaxies keep 1 + (k - 1) recovery on average."""
    n_groups, k, recovery = 400, 5, 0.3
    ra, dec = groups(n_groups, k, 10.0)
    assert np.all(apply_fibre_collisions(ra, dec, 55.0, 0.0, seed=3)
                  .reshape(n_groups, k).sum(axis=1) == 1)
    kept = apply_fibre_collisions(ra, dec, 55.0, recovery, seed=3).mean()
    expected = (1 + (k - 1) * recovery) / k
    n_restorable = n_groups * (k - 1)
    assert kept == pytest.approx(expected, abs=(k - 1) / k
                                 * binomial_tolerance(recovery, n_restorable))


def test_chains_keep_their_ends():
    """A-B-C with A-C beyond 55": the tiling fibres A and C (most targets), not B."""
    ra, dec = groups(300, 3, 40.0)
    keep = apply_fibre_collisions(ra, dec, 55.0, 0.0, seed=4).reshape(300, 3)
    assert np.all(keep == [True, False, True])


def test_random_field_pairs_survive_at_the_recovery_rate():
    """Sparse random field (most collided groups are pairs): of the original pairs closer
    than 55", a fraction ~recovery survives; with recovery 0 none does."""
    ra, dec = random_field(9000, seed=5)  # ~90 targets per deg^2, the SDSS target density
    pairs = collision_pairs(ra, dec, 55.0)
    assert len(pairs) > 200
    for recovery in (0.0, 0.3, 1.0):
        keep = apply_fibre_collisions(ra, dec, 55.0, recovery, seed=6)
        surviving = collision_pairs(ra[keep], dec[keep], 55.0)
        assert len(surviving) / len(pairs) == pytest.approx(
            recovery, abs=binomial_tolerance(0.3, len(pairs)))
        assert np.array_equal(keep[pairs].all(axis=1).sum(), len(surviving))


def test_real_coma_galaxies(shared_data):
    """On the real SDSS Coma field: recovery 0 leaves no pair closer than 55"."""
    data = np.loadtxt(shared_data / "real" / "coma" / "sdss_coma_vicinity.dat", skiprows=2,
                      usecols=(0, 1, 2))
    data = data[data[:, 2] > 0]
    ra, dec = data[:, 0], data[:, 1]
    keep = apply_fibre_collisions(ra, dec, 55.0, 0.0, seed=7)
    assert len(collision_pairs(ra, dec, 55.0)) > 0
    assert len(collision_pairs(ra[keep], dec[keep], 55.0)) == 0
    assert apply_fibre_collisions(ra, dec, 55.0, 1.0, seed=7).all()


def test_collisions_across_ra_zero_and_at_the_pole():
    ra = np.array([359.995, 0.005, 10.0, 190.0])
    dec = np.array([0.0, 0.0, 89.995, 89.995])  # 36" apart; and 36" across the pole
    assert collision_pairs(ra, dec, 55.0).tolist() == [[0, 1], [2, 3]]


def test_seeded_and_deterministic():
    ra, dec = random_field(3000, seed=8, ra_range=(180.0, 182.0), dec_range=(20.0, 22.0))
    first = apply_fibre_collisions(ra, dec, seed=9)
    assert np.array_equal(first, apply_fibre_collisions(ra, dec, seed=9))
    assert np.array_equal(first, apply_fibre_collisions(ra, dec, seed=np.random.default_rng(9)))
    assert not np.array_equal(first, apply_fibre_collisions(ra, dec, seed=10))


def test_survey_wrapper_uses_the_survey_numbers():
    survey = load_survey("sdss_legacy")
    ra, dec = random_field(3000, seed=11, ra_range=(180.0, 182.0), dec_range=(20.0, 22.0))
    assert np.array_equal(apply_survey_fibre_collisions(ra, dec, survey, seed=12),
                          apply_fibre_collisions(ra, dec, 55.0, 0.3, seed=12))


def test_rounds_equal_sequential_greedy():
    rng = np.random.default_rng(13)
    n = 300
    pairs = np.unique(np.sort(rng.integers(0, n, (600, 2)), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    priority = rng.permutation(n)
    selected = np.zeros(n, dtype=bool)
    neighbours = [set() for _ in range(n)]
    for i, j in pairs:
        neighbours[i].add(j)
        neighbours[j].add(i)
    for v in np.argsort(priority):
        selected[v] = not any(selected[u] for u in neighbours[v])
    assert np.array_equal(greedy_independent_set(n, pairs, priority), selected)


@pytest.mark.parametrize("kwargs, message", [
    ({"recovery": 1.5}, "recovery"),
    ({"radius_arcsec": -1.0}, "radius"),
    ({"ra_deg": [np.nan, 1.0]}, "ra must be finite"),
    ({"dec_deg": [0.0, 91.0]}, "dec must be finite"),
])
def test_bad_input_raises_input_error(kwargs, message):
    args = {"ra_deg": [1.0, 1.001], "dec_deg": [0.0, 0.0], **kwargs}
    with pytest.raises(InputError, match=message):
        apply_fibre_collisions(**args, seed=0)
