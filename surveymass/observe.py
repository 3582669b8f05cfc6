"""How a survey observes a cluster's field: the one path for real catalogues and mocks.

:func:`observe_field` takes galaxies (sky position, observed redshift, r magnitude) about a
cluster and returns which of them the survey observes (its depth,
:meth:`~surveymass.survey.SurveyConfig.observes`; for mocks also the spectroscopic losses
they simulate, fibre collisions and footprint completeness, which a real catalogue has
already suffered), their projected phase space about the cluster
(:func:`~surveymass.phasespace.sky_to_phase_space`) and which lie in the aperture cylinder.
``infer`` and the mock fields (hence training sets and calibration) both call it, and a
bundle's FieldSet is built from its output
(:func:`surveymass.models.predict.fields_for_bundle`) without cutting again; the galaxies a
field keeps are named by their positions in the input (:attr:`ObservedField.index`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from surveymass.phasespace import Aperture, PhaseSpace, sky_to_phase_space

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

    from surveymass.survey import SurveyConfig


@dataclass(frozen=True)
class ObservedField:
    """One cluster's field as the survey sees it, over the input galaxies (input order)."""

    #: Phase space of every input galaxy about the cluster (R comoving h^-1 Mpc, v_los km/s).
    phase_space: PhaseSpace
    #: The survey observes the galaxy (depth and, for mocks, simulated spectroscopic losses).
    observed: np.ndarray
    #: Observed and inside ``aperture``: the field's galaxies.
    in_aperture: np.ndarray
    aperture: Aperture

    @property
    def index(self) -> np.ndarray:
        """Input positions of the field's galaxies (ascending)."""
        return np.flatnonzero(self.in_aperture)

    @property
    def n_galaxies(self) -> int:
        """Galaxies in the field (observed, in the aperture)."""
        return int(self.in_aperture.sum())

    def recentred(self, dx: float, dy: float, dv: float) -> ObservedField:
        """The field about a centre moved by (dx, dy) [h^-1 Mpc] in the tangent plane and by
        dv [km/s] in velocity (first order: for offsets of ~0.002 rad and dv / c < 1e-3),
        cut to the same aperture again."""
        ps = self.phase_space
        x, y = ps.x - dx, ps.y - dy
        moved = PhaseSpace(x, y, np.hypot(x, y), ps.v_los - dv)
        return ObservedField(moved, self.observed, self.observed & self.aperture.contains(moved),
                             self.aperture)


def observe_field(ra, dec, z, mag_r, cluster: tuple[float, float, float],
                  survey: SurveyConfig, aperture: Aperture, cosmology: FLRW, *,
                  color_gr=None, already_cut: bool = False,
                  spectra: Callable[[np.ndarray], np.ndarray] | None = None) -> ObservedField:
    """The field of galaxies (ra, dec [deg], observed z, extinction-corrected r mag, NaN
    where unknown: see :meth:`SurveyConfig.observes`) about ``cluster`` (ra, dec [deg], z)
    as ``survey`` observes it through ``aperture``, with ``cosmology``'s distances.

    ``color_gr``: rest-frame g - r for the K-correction (mocks); ``already_cut``: the input
    was selected to the survey's depth upstream (:meth:`SurveyConfig.observes`);
    ``spectra``: a function of the mask of galaxies the survey's depth selects that
    returns the mask of those that also get a spectrum (mocks: fibre collisions,
    footprint completeness).
    """
    observed = survey.observes(mag_r, z=z, cosmology=cosmology, color_gr=color_gr,
                               already_cut=already_cut)
    if spectra is not None:
        observed = spectra(observed)
    ps = sky_to_phase_space(ra, dec, z, *cluster, cosmology)
    return ObservedField(ps, observed, observed & aperture.contains(ps), aperture)
