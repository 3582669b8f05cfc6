"""Every config type round-trips through JSON, and reading one back is strict: unknown or
missing settings are refused with a message that names them (surveymass.config)."""

from __future__ import annotations

import json

import pytest

from surveymass.config import dataclass_from_dict
from surveymass.errors import InputError
from surveymass.halo import MSigmaRelation, evrard2008
from surveymass.models.deepsets import Architecture
from surveymass.models.training import TrainingConfig
from surveymass.phasespace import Aperture
from surveymass.survey import SurveyConfig, load_survey
from surveymass.universe.synthetic.config import SyntheticConfig
from surveymass.universe.synthetic.nuisance import GalaxyHaloPrior

#: (config, how it is written, how it is read back)
CONFIGS = {
    "synthetic universe": (SyntheticConfig(box_size=300.0, seed=4), SyntheticConfig.to_dict,
                           SyntheticConfig.from_dict),
    "survey (flux-limited)": (load_survey("sdss_legacy"), SurveyConfig.to_dict,
                              SurveyConfig.from_dict),
    "survey (volume-limited)": (load_survey("sdss_dr7_vlim20"), SurveyConfig.to_dict,
                                SurveyConfig.from_dict),
    "M-sigma relation": (evrard2008(), MSigmaRelation.to_dict, MSigmaRelation.from_dict),
    "architecture": (Architecture(width=32, latent=8), Architecture.to_dict,
                     lambda d: dataclass_from_dict(Architecture, d, "architecture")),
    "training": (TrainingConfig(max_epochs=3, seed=2), TrainingConfig.to_dict,
                 lambda d: dataclass_from_dict(TrainingConfig, d, "training")),
    "aperture": (Aperture(r_max=2.0, v_max=3000.0, min_galaxies=5),
                 lambda a: {"r_max": a.r_max, "v_max": a.v_max,
                            "min_galaxies": a.min_galaxies},
                 lambda d: dataclass_from_dict(Aperture, d, "aperture")),
    "galaxy-halo prior": (GalaxyHaloPrior({"log_nsat_scatter": (0.1, 0.2)}),
                          GalaxyHaloPrior.to_dict, GalaxyHaloPrior.from_dict),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_every_config_round_trips_through_json(name):
    config, write, read = CONFIGS[name]
    assert read(json.loads(json.dumps(write(config)))) == config


@pytest.mark.parametrize("name", CONFIGS)
def test_an_unknown_setting_is_refused_by_name(name):
    config, write, read = CONFIGS[name]
    data = {**write(config), "velocity_bais": 1.0}  # a typo of a real name
    with pytest.raises(InputError, match="velocity_bais"):
        read(data)


@pytest.mark.parametrize("name", ["survey (flux-limited)", "M-sigma relation", "aperture"])
def test_a_missing_required_setting_is_refused_by_name(name):
    config, write, read = CONFIGS[name]
    data = write(config)
    required = {"survey (flux-limited)": "mag_limit", "M-sigma relation": "slope",
                "aperture": None}[name]
    if required is None:  # every aperture setting has a default: nothing is required
        assert read({}) == Aperture()
        return
    del data[required]
    with pytest.raises(InputError, match=f"missing setting.*{required}"):
        read(data)


def test_a_setting_of_the_wrong_type_is_an_input_error():
    with pytest.raises(InputError, match="architecture"):
        dataclass_from_dict(Architecture, {"width": "wide"}, "architecture")
    with pytest.raises(InputError, match="must be a table of settings"):
        dataclass_from_dict(Architecture, [1, 2], "architecture")
