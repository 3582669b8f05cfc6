"""The built-in synthetic universe: halos from the Tinker et al. (2008) mass function placed in
a biased lognormal density field with linear velocities and N-body infall around massive
halos, populated with galaxies from an SDSS-calibrated conditional luminosity function.

Entry points: :class:`SyntheticConfig`, :func:`build_universe` (to a file, chunked) and
:func:`build_universe_in_memory`.
"""

from surveymass.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".config": ["SyntheticConfig"],
    ".build": ["build_universe", "build_universe_in_memory"],
})
