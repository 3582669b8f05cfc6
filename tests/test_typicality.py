"""The misspecification check: percentiles of mass-free summaries among similar mocks."""

import numpy as np
import pytest
from astropy.table import Table

from surveymass.errors import InputError
from surveymass.models import typicality
from surveymass.models.typicality import Reference, atypical, summaries


def _reference_table(n=5000, seed=0):
    """Mock-like summaries: log N = 1.5 + 2 (log sigma - 2.7) + N(0, 0.1)."""
    rng = np.random.default_rng(seed)
    log_sigma = rng.uniform(2.4, 3.0, n)
    return Table({"z_cl": rng.uniform(0.02, 0.1, n), "log10_sigma_gapper": log_sigma,
                  "log10_m_median": 14.0 + 3 * (log_sigma - 2.7),
                  "log10_n_galaxies": 1.5 + 2 * (log_sigma - 2.7) + rng.normal(0, 0.1, n),
                  "outer_fraction": rng.uniform(0.2, 0.5, n),
                  "interloper_fraction": rng.uniform(0.1, 0.6, n),
                  "msigma_tension": rng.normal(0, 1, n)})


def test_percentiles_of_richness_at_fixed_sigma():
    ref = Reference(_reference_table())
    probe = _reference_table(4, seed=1)[:4]
    probe["log10_sigma_gapper"] = [2.7] * 4
    probe["log10_m_median"] = [14.0] * 4
    probe["log10_n_galaxies"] = [1.5, 1.5 + 0.1, 1.5 - 0.3, 1.5 + 0.3]  # 0, +1, -3, +3 sigma
    pct = ref.percentiles(probe)["log10_n_galaxies"]
    # Gaussian percentiles 50, 84, 0.1, 99.9 within the noise of 200 neighbours
    assert pct[0] == pytest.approx(50, abs=8) and pct[1] == pytest.approx(84, abs=7)
    assert pct[2] < 2 and pct[3] > 98
    assert list(atypical({"log10_n_galaxies": pct})) == [False, False, True, True]


def test_mocks_like_the_reference_are_rarely_flagged():
    ref = Reference(_reference_table(seed=2))
    pct = ref.percentiles(_reference_table(2000, seed=3))
    flagged = atypical(pct).mean()
    # four summaries at a 2% two-sided band each: at most ~8% by chance
    assert 0.02 < flagged < 0.12
    for values in pct.values():
        assert np.nanmedian(values) == pytest.approx(50, abs=5)


def test_summaries_of_a_field_set(tmp_path_factory):
    from surveymass.models.datasets import load_split
    from toy_clusters import trained_toy_bundle

    data, _ = trained_toy_bundle(tmp_path_factory)
    fields = load_split(data, "test").subset(np.arange(3))
    n = fields.n_galaxies
    samples = np.array([[14.0, 14.2, 14.4]] * 3)
    table = summaries(fields, n_members=n // 2, log10_m_sigma=np.full(3, 14.0),
                      samples=samples)
    r = np.hypot(fields.x, fields.y)
    assert table["outer_fraction"][0] == pytest.approx(np.mean(r[:n[0]] > typicality.OUTER_RADIUS))
    assert table["log10_n_galaxies"][1] == pytest.approx(np.log10(n[1]))
    assert table["interloper_fraction"][2] == pytest.approx(1 - (n[2] // 2) / n[2])
    assert table["msigma_tension"][0] == pytest.approx(0.2 / np.std([14.0, 14.2, 14.4]))
    assert np.isfinite(table["log10_sigma_gapper"]).all()  # toy fields hold >= 5 members


def test_a_small_or_incomplete_reference_is_refused():
    with pytest.raises(InputError, match="at least"):
        Reference(_reference_table(50))
    table = _reference_table()
    table.remove_column("outer_fraction")
    with pytest.raises(InputError, match="outer_fraction"):
        Reference(table)
