"""The one "observe a field" path (surveymass.observe) on the shipped Coma field."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from surveymass.catalog import read_catalog
from surveymass.cosmology import default_cosmology
from surveymass.errors import InputError
from surveymass.observe import observe_field
from surveymass.paths import CATALOGS
from surveymass.phasespace import Aperture, sky_to_phase_space
from surveymass.survey import load_survey

COSMOLOGY = default_cosmology()


@pytest.fixture(scope="module")
def coma():
    table, cluster = read_catalog(CATALOGS / "coma_sdss.fits")
    columns = [np.asarray(table[k], float) for k in ("ra", "dec", "z", "mag_r")]
    return columns, (cluster.ra, cluster.dec, cluster.z)


def _observe(coma, survey, aperture=Aperture(), **kw):
    columns, cluster = coma
    return observe_field(*columns, cluster, survey, aperture, COSMOLOGY, **kw)


def test_the_field_is_the_surveys_galaxies_inside_the_cylinder(coma):
    (ra, dec, z, mag), cluster = coma
    survey = load_survey("sdss_legacy")
    field = _observe(coma, survey)
    ps = sky_to_phase_space(ra, dec, z, *cluster, COSMOLOGY)
    expected = ~(mag > survey.mag_limit) & (ps.r < 1.6) & (np.abs(ps.v_los) < 2200)
    np.testing.assert_array_equal(field.in_aperture, expected)
    np.testing.assert_array_equal(field.phase_space.r, ps.r)  # every input galaxy
    assert field.n_galaxies == expected.sum() == 665  # the README's Coma line
    assert np.all(np.diff(field.index) > 0) and field.index.size == field.n_galaxies
    # a brighter limit drops exactly the galaxies fainter than it
    bright = _observe(coma, dataclasses.replace(survey, mag_limit=16.5))
    np.testing.assert_array_equal(bright.in_aperture, expected & (mag <= 16.5))


def test_spectroscopic_losses_come_before_the_aperture(coma):
    survey = load_survey("sdss_legacy")
    field = _observe(coma, survey)
    lost = field.index[::2]

    def spectra(observed):
        kept = observed.copy()
        kept[lost] = False
        return kept

    thinned = _observe(coma, survey, spectra=spectra)
    assert not thinned.in_aperture[lost].any()
    assert thinned.n_galaxies == field.n_galaxies - lost.size
    np.testing.assert_array_equal(thinned.phase_space.v_los, field.phase_space.v_los)


def test_a_recentred_field_is_cut_to_the_same_aperture_again(coma):
    field = _observe(coma, load_survey("sdss_legacy"))
    assert np.array_equal(field.recentred(0.0, 0.0, 0.0).in_aperture, field.in_aperture)
    moved = field.recentred(0.3, 0.0, 500.0)
    ps = moved.phase_space
    np.testing.assert_allclose(ps.x, field.phase_space.x - 0.3)
    np.testing.assert_allclose(ps.v_los, field.phase_space.v_los - 500.0)
    np.testing.assert_array_equal(
        moved.in_aperture, field.observed & (ps.r < 1.6) & (np.abs(ps.v_los) < 2200))
    assert moved.n_galaxies < field.n_galaxies


def test_a_bundle_refuses_fields_observed_through_another_aperture(coma):
    from surveymass.models.bundle import load_bundle
    from surveymass.models.predict import fields_for_bundle

    bundle = load_bundle()
    (_, _, _, mag), cluster = coma
    narrow = _observe(coma, bundle.survey, Aperture(r_max=1.0))
    with pytest.raises(InputError, match="another aperture"):
        fields_for_bundle(bundle, [narrow], [mag], [cluster[2]])
    field = _observe(coma, bundle.survey, bundle.aperture)
    fields = fields_for_bundle(bundle, [field], [mag], [cluster[2]])
    assert fields.n_galaxies.tolist() == [field.n_galaxies]
    np.testing.assert_array_equal(fields.mag_r, mag[field.in_aperture])
