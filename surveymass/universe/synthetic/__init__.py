"""The built-in synthetic universe: halos from the Tinker et al. (2008) mass function placed in
a biased lognormal density field with linear velocities and N-body infall around massive
halos, populated with galaxies from an SDSS-calibrated conditional luminosity function.

Entry points: :class:`SyntheticConfig`, :func:`build_universe` (to a file, chunked) and
:func:`build_universe_in_memory`.
"""

from surveymass.universe.synthetic.build import build_universe, build_universe_in_memory
from surveymass.universe.synthetic.config import SyntheticConfig

__all__ = ["SyntheticConfig", "build_universe", "build_universe_in_memory"]
