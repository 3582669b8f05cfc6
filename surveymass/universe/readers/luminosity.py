"""r-band absolute magnitude and g - r colour from stellar mass and star-formation rate.

Simulations such as UniverseMachine give stellar masses [Msun, Chabrier IMF] and star
formation rates, not luminosities. The survey selects on r-band flux, so each galaxy gets:

1. a star-formation state: quiescent when sSFR = SFR / M* < 1e-11 yr^-1, the quenched
   threshold of UniverseMachine (Behroozi et al. 2019, MNRAS 488, 3143, §2);
2. a rest-frame g - r colour: the red-sequence or blue-cloud value of its state
   (representative SDSS peaks, model parameters, not fitted here);
3. a mass-to-light ratio from the colour, Bell et al. 2003 (ApJS 149, 289, Table 7):
   log10(M*/L_r) = a_r + b_r (g - r) with a_r = -0.306, b_r = 1.097 for a "diet Salpeter"
   IMF (0.7 x the Salpeter mass). Chabrier (2003) IMF masses are 0.55–0.61 x Salpeter
   (0.61: Madau & Dickinson 2014, ARA&A 52, 415), i.e. 0.06–0.10 dex below diet Salpeter;
   the relation is shifted by ``imf_offset_dex`` = -0.1 to take UniverseMachine masses;
4. M_r = M_sun,r - 2.5 log10(L_r / L_sun) with M_sun,r = 4.65 (SDSS r, AB; Willmer 2018,
   ApJS 236, 47), reported as M_r - 5 log10 h because stellar masses carry no h.

Limitations: two fixed colours instead of a colour distribution, and rest-frame SDSS
r rather than the z = 0.1-shifted band of Blanton et al. 2003 (a ~0.1 mag difference).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from surveymass.errors import InputError


@dataclass(frozen=True)
class MassToLight:
    """Parameters of the stellar-mass -> r-band luminosity model (see the module doc)."""

    a_r: float = -0.306
    b_r: float = 1.097
    imf_offset_dex: float = -0.1
    color_gr_quiescent: float = 0.75
    color_gr_star_forming: float = 0.45
    ssfr_quiescent: float = 1e-11  # yr^-1
    m_sun_r: float = 4.65

    def to_dict(self) -> dict:
        """The parameters with the citation, for the universe config."""
        return {"relation": "Bell et al. 2003 log10(M/L_r) = a_r + b_r (g-r), Chabrier IMF "
                            "offset; M_sun,r from Willmer 2018", **asdict(self)}


def is_quiescent(stellar_mass: np.ndarray, sfr: np.ndarray,
                 model: MassToLight = MassToLight()) -> np.ndarray:
    """True where sSFR = ``sfr`` [Msun/yr] / ``stellar_mass`` [Msun] is below the threshold."""
    stellar_mass = np.asarray(stellar_mass, dtype=np.float64)
    return np.asarray(sfr, dtype=np.float64) < model.ssfr_quiescent * stellar_mass


def color_gr(quiescent: np.ndarray, model: MassToLight = MassToLight()) -> np.ndarray:
    """Rest-frame g - r [mag] of each galaxy from its star-formation state."""
    return np.where(quiescent, model.color_gr_quiescent, model.color_gr_star_forming)


def absolute_magnitude_r(stellar_mass: np.ndarray, color: np.ndarray, h: float,
                         model: MassToLight = MassToLight()) -> np.ndarray:
    """M_r - 5 log10 h [mag] of galaxies of ``stellar_mass`` [Msun, Chabrier] and g - r."""
    stellar_mass = np.asarray(stellar_mass, dtype=np.float64)
    if np.any(~(stellar_mass > 0)):
        raise InputError("stellar masses must be positive to have a luminosity; "
                         f"{int(np.sum(~(stellar_mass > 0)))} are not")
    log_ml = model.a_r + model.b_r * np.asarray(color) + model.imf_offset_dex
    log_l = np.log10(stellar_mass) - log_ml
    return model.m_sun_r - 2.5 * log_l - 5.0 * np.log10(h)


def galaxy_photometry(stellar_mass: np.ndarray, sfr: np.ndarray, h: float,
                      model: MassToLight = MassToLight()) -> dict[str, np.ndarray]:
    """``mag_r`` (M_r - 5 log10 h), ``color_gr`` and ``quiescent`` of galaxies with
    ``stellar_mass`` [Msun] and star-formation rate ``sfr`` [Msun/yr]."""
    quiescent = is_quiescent(stellar_mass, sfr, model)
    color = color_gr(quiescent, model)
    return {"mag_r": absolute_magnitude_r(stellar_mass, color, h, model),
            "color_gr": color, "quiescent": quiescent}
