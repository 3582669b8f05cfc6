"""Mass-free calibration of the mocks against real clusters (``surveymass calibrate``):
richness at fixed velocity dispersion, stacked profiles and phase space of the Mahdavi &
Geller (2001) systems in the SDSS DR7 volume-limited sample, and Coma at full depth, each
measured by one function on real and mock fields (see docs/calibration.md)."""
