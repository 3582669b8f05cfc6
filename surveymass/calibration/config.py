"""The settings of a calibration run: a light dataclass (the aperture and the mock settings
only), so that ``surveymass calibrate --help`` shows its defaults without importing the
calibration machinery."""

from __future__ import annotations

from dataclasses import dataclass, field

from surveymass.mocks.config import MockConfig
from surveymass.phasespace import Aperture


@dataclass(frozen=True)
class CalibrationConfig:
    """Sizes and seeds of a calibration run. log_mass_range: halos of the systems' mocks
    [log10 h^-1 Msun]; n_halos x n_los fields; coma_halos x n_los fields for Coma."""

    log_mass_range: tuple[float, float] = (13.0, 15.3)
    n_halos: int = 400
    n_los: int = 3
    coma_halos: int = 60
    seed: int = 0
    aperture: Aperture = field(default_factory=Aperture)
    mock_config: MockConfig | None = None

    def to_dict(self) -> dict:
        return {"log_mass_range": list(self.log_mass_range), "n_halos": self.n_halos,
                "n_los": self.n_los, "coma_halos": self.coma_halos, "seed": self.seed,
                "r_max": self.aperture.r_max, "v_max": self.aperture.v_max,
                "mock_config": (self.mock_config or MockConfig()).to_dict()}
