"""Build a synthetic universe: halos by mass chunk, placed in the biased density field, moved
and accelerated by their massive neighbours, then populated with galaxies; written chunk by
chunk through :class:`~surveymass.universe.store.UniverseWriter`.

Order of work: the linear field and its velocities; the attractors (halos above
``infall_min_mass``) all at once, so that every later chunk sees their final positions; then
the lighter halos in chunks of at most ``chunk_halos``, from heavy to light. Biased fields
exist for ``n_bias_nodes`` bias values (equal steps in ln b); a halo of bias b between nodes
b_k and b_k+1 is placed with node k+1 with probability (b - b_k) / (b_k+1 - b_k), else with
node k, so that its mean (large-scale) bias is b exactly; each node is computed once.
Every random step draws from a generator seeded by (seed, step, chunk), so a seed fixes the
output exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from surveymass.cosmology import colossus_cosmology, default_cosmology
from surveymass.outputs import check_outputs
from surveymass.progress import progress_bar
from surveymass.universe.store import GALAXY_COLUMNS, HALO_COLUMNS, Universe, UniverseWriter
from surveymass.universe.synthetic import halos as halo_model
from surveymass.universe.synthetic.config import GENERATOR, SyntheticConfig
from surveymass.universe.synthetic.field import LinearField
from surveymass.universe.synthetic.galaxies import GalaxyModel, derived_min_mass, magnitude_map
from surveymass.universe.synthetic.infall import (
    Attractors,
    dominant_pull,
    gather_neighbours,
    infall_velocities,
)


def build_universe(config: SyntheticConfig, path: str | Path, progress: bool = True,
                   overwrite: bool = False) -> Path:
    """Build the universe of ``config`` into the HDF5 file ``path`` (atomic; an existing
    file is replaced only with ``overwrite``, checked before any work); returns it."""
    check_outputs([path], overwrite)
    builder = _Builder(config, progress)
    with UniverseWriter(path, builder.cosmology, config.redshift, config.box_size,
                        config.to_dict(), source=builder.source(),
                        overwrite=overwrite) as writer:
        for halos, galaxies in builder.chunks():
            writer.append("halos", halos)
            writer.append("galaxies", galaxies)
    return Path(path)


def build_universe_in_memory(config: SyntheticConfig, progress: bool = False) -> Universe:
    """Build the universe of ``config`` in memory (small boxes: tests, quick mocks)."""
    builder = _Builder(config, progress)
    parts = list(builder.chunks())
    halos = {k: np.concatenate([p[0][k] for p in parts]) for k in HALO_COLUMNS}
    galaxies = {k: np.concatenate([p[1][k] for p in parts]) for k in GALAXY_COLUMNS}
    return Universe(cosmology=builder.cosmology, redshift=config.redshift,
                    box_size=config.box_size, halos=halos, galaxies=galaxies,
                    config=config.to_dict(), provenance=builder.source())


@dataclass(frozen=True)
class _Chunk:
    """Mass bins ``bins`` (slice of the mass grid) placed with bias nodes ``node`` and
    ``node + 1``."""

    bins: slice
    node: int


class _Builder:
    def __init__(self, config: SyntheticConfig, progress: bool):
        self.config = config
        self.progress = progress
        self.cosmology = default_cosmology()
        self.col = colossus_cosmology(self.cosmology, config.sigma8, config.ns)
        self.galaxy_model = GalaxyModel(config, magnitude_map(config))
        self.m_min = config.m_min or derived_min_mass(config, self.galaxy_model.clf_limit)
        self.grid = halo_model.mass_grid(config, self.m_min)
        halo_model.check_box_holds_masses(config, self.grid)
        self.bin_bias = halo_model.halo_bias(config, 10 ** self.grid.log_centres)
        self.node_bias = self._bias_nodes()
        self.node_of_bin = np.clip(np.searchsorted(self.node_bias, self.bin_bias, side="right")
                                   - 1, 0, len(self.node_bias) - 2)
        self._next_halo_id = 0
        self._next_galaxy_id = 0
        self._cached_nodes: dict[int, np.ndarray] = {}

    def source(self) -> dict:
        """Provenance entries: the generator, the seed and the derived quantities."""
        return {"generator": GENERATOR, "seed": self.config.seed,
                "derived": {"m_min": self.m_min, "n_cells": self.config.n_cells,
                            "clf_mag_limit": self.galaxy_model.clf_limit,
                            "bias_nodes": self.node_bias.tolist()}}

    def _rng(self, *keys: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.config.seed, *keys]))

    def _bias_nodes(self) -> np.ndarray:
        """Node biases: equal steps in ln b from the lightest bin to the last bin with a halo
        expected above it."""
        above = np.cumsum(self.grid.expected[::-1])[::-1]
        top = self.bin_bias[max(0, np.searchsorted(-above, -1.0) - 1)]
        low = self.bin_bias[0]
        return np.exp(np.linspace(np.log(low), np.log(max(top, low * 1.01)),
                                  self.config.n_bias_nodes))

    def _plan(self, lo_bin: int, hi_bin: int, limit: float) -> list[_Chunk]:
        """Chunks covering bins [lo_bin, hi_bin) from heavy to light, one node pair each, each
        expecting at most ``limit`` halos (or a single bin)."""
        chunks, stop, expected = [], hi_bin, 0.0
        for b in range(hi_bin - 1, lo_bin - 1, -1):
            same_node = self.node_of_bin[b] == self.node_of_bin[stop - 1]
            if b < stop - 1 and (not same_node or expected + self.grid.expected[b] > limit):
                chunks.append(_Chunk(slice(b + 1, stop), int(self.node_of_bin[stop - 1])))
                stop, expected = b + 1, 0.0
            expected += self.grid.expected[b]
        if stop > lo_bin:
            chunks.append(_Chunk(slice(lo_bin, stop), int(self.node_of_bin[stop - 1])))
        return chunks

    def chunks(self) -> Iterator[tuple[dict, dict]]:
        """Yield (halos, galaxies) column dicts, chunk by chunk."""
        cfg = self.config
        first_light = int(np.searchsorted(self.grid.log_edges[:-1],
                                          np.log10(cfg.infall_min_mass)))
        heavy = self._plan(first_light, len(self.grid.expected), np.inf)
        light = self._plan(0, first_light, cfg.chunk_halos)
        with progress_bar(total=3 + len(heavy) + len(light), desc="universe", unit="step",
                          quiet=not self.progress) as bar:
            bar.set_postfix_str("linear field")
            self.field = LinearField(cfg, self.col, self._rng(0), self.cosmology)
            self.velocity_grid = [self.field.velocity(axis) for axis in range(3)]
            self.sigma_small = cfg.small_scale_dispersion or self.field.missing_dispersion()
            self._xi_table()
            bar.update(3)
            bar.set_postfix_str("attractors")
            parts = []
            for i, chunk in enumerate(heavy):
                parts.append(self._sample(chunk, self._rng(1, i)))
                bar.update(1)
            heavy_halos = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} \
                if parts else self._sample(_Chunk(slice(0, 0), 0), self._rng(1, 0))
            self.attractors = self._attractors(heavy_halos)
            self._apply_neighbours(heavy_halos, self.attractors)
            self.attractors = self._attractors(heavy_halos)
            yield self._finish(heavy_halos, self._rng(2, 0))
            bar.set_postfix_str("halos and galaxies")
            for i, chunk in enumerate(light):
                halos = self._sample(chunk, self._rng(3, i))
                self._apply_neighbours(halos, self.attractors)
                yield self._finish(halos, self._rng(4, i))
                bar.update(1)

    def _xi_table(self) -> None:
        """Linear correlation function at the snapshot, tabulated on 0.05-300 h^-1 Mpc."""
        r = np.logspace(np.log10(0.05), np.log10(300.0), 120)
        xi = self.col.correlationFunction(r, self.config.redshift)
        self.xi_lin = lambda x: np.interp(np.log(x), np.log(r), xi)
        self.rho_m = self.col.rho_m(0.0) * 1e9  # h^2 Msun Mpc^-3, comoving

    def _node_cdf(self, node: int) -> np.ndarray:
        """Cumulative cell weights of a bias node; keeps the two last used (a node pair)."""
        if node not in self._cached_nodes:
            for old in sorted(self._cached_nodes, key=lambda k: abs(k - node))[1:]:
                del self._cached_nodes[old]
            weights = self.field.cell_weights(float(self.node_bias[node]))
            self._cached_nodes[node] = np.cumsum(weights, out=weights)
        return self._cached_nodes[node]

    def _cells(self, chunk: _Chunk, m200c: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Flat grid cells of the halos of a chunk, from the node pair that brackets each
        halo's bias (see the module docstring)."""
        lo, hi = self.node_bias[chunk.node], self.node_bias[chunk.node + 1]
        upper = rng.random(m200c.size) < np.clip((self._bias(m200c) - lo) / (hi - lo), 0, 1)
        cells = np.empty(m200c.size, np.int64)
        for node, pick in ((chunk.node + 1, upper), (chunk.node, ~upper)):
            cdf = self._node_cdf(node)
            # sorted draws make the search cache-friendly; the permutation unsorts the cells
            draws = np.sort(rng.random(int(pick.sum()))) * cdf[-1]
            found = np.minimum(np.searchsorted(cdf, draws, side="right"), cdf.size - 1)
            cells[pick] = found[rng.permutation(found.size)]
        return cells

    def _sample(self, chunk: _Chunk, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Masses, radii, concentrations, positions and velocities of one chunk."""
        m = halo_model.sample_masses(self.grid, chunk.bins, rng)
        if m.size == 0:
            return {k: np.zeros(0, HALO_COLUMNS[k][0]) for k in HALO_COLUMNS if k != "halo_id"}
        cells = self._cells(chunk, m, rng)
        pos = self.field.cells_to_positions(cells, rng)
        out = {"m200c": m, "r200c": halo_model.r200c(self.config, m).astype(np.float32),
               "concentration": halo_model.concentrations(self.config, m, rng).astype(np.float32)}
        for axis, name in enumerate("xyz"):
            out[name] = pos[:, axis]
            out["v" + name] = (self.velocity_grid[axis][cells]
                               + self.sigma_small * rng.standard_normal(m.size))
        return out

    def _attractors(self, halos: dict[str, np.ndarray]) -> Attractors:
        pick = halos["m200c"] >= self.config.infall_min_mass
        return Attractors(
            pos=np.stack([halos[a][pick] for a in "xyz"], axis=1).astype(np.float64),
            vel=np.stack([halos["v" + a][pick] for a in "xyz"], axis=1).astype(np.float64),
            m200c=halos["m200c"][pick], r200c=halos["r200c"][pick].astype(np.float64),
            concentration=halos["concentration"][pick], bias=self._bias(halos["m200c"][pick]),
            r_vir=halo_model.virial_radius_ratio(self.config, halos["concentration"][pick])
            * halos["r200c"][pick], box_size=self.config.box_size)

    def _bias(self, m200c: np.ndarray) -> np.ndarray:
        return np.interp(np.log10(m200c), self.grid.log_centres, self.bin_bias)

    def _apply_neighbours(self, halos: dict[str, np.ndarray], att: Attractors) -> None:
        """Sub-cell gathering and infall of ``halos`` around ``att`` (in place)."""
        if att.m200c.size == 0 or halos["m200c"].size == 0:
            return
        pos = np.stack([halos[a] for a in "xyz"], axis=1).astype(np.float64)
        vel = np.stack([halos["v" + a] for a in "xyz"], axis=1).astype(np.float64)
        pull = dominant_pull(att, pos, halos["m200c"], self.config)
        if pull.halo.size == 0:
            return
        sep = gather_neighbours(att, pull, self._bias(halos["m200c"]), self.config,
                                self.xi_lin, self.rho_m)
        vel[pull.halo] = infall_velocities(att, pull, sep, vel, self.config)
        pos[pull.halo] = att.pos[pull.attractor] + sep
        for axis, name in enumerate("xyz"):
            halos[name] = pos[:, axis]
            halos["v" + name] = vel[:, axis]

    def _finish(self, halos: dict[str, np.ndarray], rng: np.random.Generator
                ) -> tuple[dict, dict]:
        """Final halo columns (ids, float32, wrapped positions) and their galaxies."""
        n = halos["m200c"].size
        out = {"halo_id": self._next_halo_id + np.arange(n, dtype=np.int64)}
        self._next_halo_id += n
        for name, (dtype, _, _) in HALO_COLUMNS.items():
            if name != "halo_id":
                values = halos[name] % self.config.box_size if name in ("x", "y", "z") else halos[name]
                out[name] = np.asarray(values, dtype=dtype)
        for name in "xyz":  # float32 rounding can land exactly on box_size
            out[name][out[name] >= self.config.box_size] = 0.0
        galaxies = self.galaxy_model.populate(out, self._next_galaxy_id, rng)
        self._next_galaxy_id += galaxies["galaxy_id"].size
        return out, galaxies
