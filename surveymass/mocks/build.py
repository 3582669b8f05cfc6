"""Build a training set: fields flat in log10 M200c, split by halo, plus a natural test split.

Each mass bin is filled to the same number of *accepted* fields (those passing the
richness cut): candidate (halo, line of sight) pairs are used in the order of
:func:`~surveymass.mocks.lines_of_sight.candidate_order` (n_los proportional to
1 / (dN/dlog10 M), at most ``max_los``) in rounds sized by the acceptance measured so far.
A bin whose candidates run out stays short; the manifest records it.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
from pathlib import Path
from typing import Self

import numpy as np
from astropy.table import Table

from surveymass.cosmology import cosmology_from_dict, cosmology_to_dict, same_cosmology
from surveymass.errors import InputError
from surveymass.mocks.config import MockConfig, TrainingSetConfig
from surveymass.mocks.fields import FieldMaker, MockField, check_window
from surveymass.mocks.lines_of_sight import (
    HaloDirections,
    candidate_order,
    check_fillable,
)
from surveymass.mocks.trainingset import (
    GALAXY_COLUMNS,
    NUISANCE_COLUMNS,
    assign_splits,
    output_folder,
    summarize,
    write_training_set,
)
from surveymass.outputs import check_outputs
from surveymass.photometry import absolute_magnitude_limit
from surveymass.progress import progress_bar
from surveymass.provenance import provenance
from surveymass.survey import SurveyConfig
from surveymass.universe.store import Universe, UniverseFile

_MAX_ROUNDS = 12
#: Lines of sight per halo generated up front, as a multiple of the mean a bin needs.
_FIRST_LOS_FACTOR = 8


class _BinQueue:
    """Candidate (halo row, line of sight) pairs of one mass bin, in order of use."""

    def __init__(self, rows: np.ndarray, log_mass: np.ndarray, per_bin: int, max_los: int,
                 seed: np.random.SeedSequence):
        self.rows, self.log_mass, self.max_los, self.seed = rows, log_mass, max_los, seed
        self.stop = min(max_los, max(4, math.ceil(_FIRST_LOS_FACTOR * per_bin / len(rows))))
        self.halo, self.los = candidate_order(log_mass, 0, self.stop, seed)
        self.next = 0

    @property
    def exhausted(self) -> bool:
        return self.next >= len(self.halo) and self.stop >= self.max_los

    def take(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``k`` (or fewer) pairs as (universe halo rows, line-of-sight indices)."""
        if self.next >= len(self.halo) and self.stop < self.max_los:
            self.halo, self.los = candidate_order(self.log_mass, self.stop, self.max_los,
                                                  self.seed)
            self.next, self.stop = 0, self.max_los
        sl = slice(self.next, self.next + k)
        self.next += k
        return self.rows[self.halo[sl]], self.los[sl]


class FieldRunner:
    """Makes the fields of (halo row, line of sight) requests, here or in ``workers``
    forked processes that share the maker's catalogue and trees (same results either way:
    each field depends only on the seed, the halo and the line of sight)."""

    def __init__(self, maker: FieldMaker, directions: HaloDirections, workers: int = 1):
        if workers < 1:
            raise InputError(f"workers must be at least 1, got {workers}")
        self.maker, self.directions, self.workers = maker, directions, workers
        self._pool = None

    def __enter__(self) -> Self:
        if self.workers > 1:
            global _RUNNER
            _RUNNER = self  # inherited by the forked workers
            self._pool = multiprocessing.get_context("fork").Pool(self.workers)
        return self

    def __exit__(self, *exc) -> None:
        global _RUNNER
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
            _RUNNER = None  # frees the universe once the runner is done with it

    def make(self, rows: np.ndarray, los: np.ndarray) -> list[MockField | None]:
        halo_ids = self.maker.universe.halos["halo_id"]
        return [self.maker.make(row, self.directions.direction(halo_ids[row], j), j)
                for row, j in zip(rows.tolist(), los.tolist())]

    def run(self, rows: np.ndarray, los: np.ndarray, bar) -> list[MockField | None]:
        """Fields (None where the richness cut fails) for the requests, in order; ``bar``
        advances by the accepted fields."""
        chunks = [(rows[i:i + _CHUNK], los[i:i + _CHUNK]) for i in range(0, len(rows), _CHUNK)]
        parts = (self._pool.imap(_run_chunk, chunks) if self._pool is not None
                 else (self.make(*chunk) for chunk in chunks))
        results: list[MockField | None] = []
        for part in parts:
            bar.update(sum(r is not None for r in part))
            results.extend(part)
        return results


_RUNNER: FieldRunner | None = None
_CHUNK = 64


def _run_chunk(chunk: tuple[np.ndarray, np.ndarray]) -> list[MockField | None]:
    return _RUNNER.make(*chunk)


def flat_fields(runner: FieldRunner, config: TrainingSetConfig, bar) -> tuple[list[MockField],
                                                                             dict]:
    """Fields flat in mass (``config.per_bin`` per bin where the universe allows).

    Returns the fields and, per short bin, the number of fields it lacks."""
    log_mass = np.log10(runner.maker.universe.halos["m200c"])
    which = config.bins.index(log_mass)
    streams = np.random.SeedSequence(config.seed).spawn(config.bins.n_bins)  # one per bin
    queues = {b: _BinQueue(np.flatnonzero(which == b), log_mass[which == b], config.per_bin,
                           config.max_los, streams[b])
              for b in range(config.bins.n_bins)}
    accepted: dict[int, list[MockField]] = {b: [] for b in queues}
    tried = dict.fromkeys(queues, 0)
    start = bar.n
    for _ in range(_MAX_ROUNDS):
        active = [b for b in queues
                  if len(accepted[b]) < config.per_bin and not queues[b].exhausted]
        if not active:
            break
        requests = {}
        for b in active:
            short = config.per_bin - len(accepted[b])
            rate = max(len(accepted[b]) / tried[b], 0.02) if tried[b] else 1.0
            requests[b] = queues[b].take(math.ceil(1.1 * short / rate) + 1)
        results = runner.run(np.concatenate([r for r, _ in requests.values()]),
                             np.concatenate([j for _, j in requests.values()]), bar)
        offset = 0
        for b, (rows, _) in requests.items():
            mine = results[offset:offset + len(rows)]
            offset += len(rows)
            tried[b] += len(mine)
            accepted[b].extend(r for r in mine if r is not None)
            del accepted[b][config.per_bin:]
        bar.n = start + sum(len(a) for a in accepted.values())  # drop the surplus
        bar.refresh()
    shortfall = {f"{config.bins.edges[b]:.2f}": config.per_bin - len(accepted[b])
                 for b in queues if len(accepted[b]) < config.per_bin}
    return [f for b in queues for f in accepted[b]], shortfall


def natural_fields(runner: FieldRunner, halo_rows: np.ndarray, n: int, seed: int,
                   bar) -> list[MockField]:
    """One line of sight each for ``n`` halos drawn uniformly from ``halo_rows``."""
    rng = np.random.default_rng([seed, 4])
    chosen = np.sort(rng.choice(halo_rows, size=min(n, len(halo_rows)), replace=False))
    results = runner.run(chosen, np.zeros(len(chosen), int), bar)
    return [r for r in results if r is not None]


_ROW_DTYPES = {"halo_id": "i8", "los_index": "i8", "los_x": "f8", "los_y": "f8",
               "los_z": "f8", "log10_m200c": "f8", "z_cl": "f8", "ra_cl": "f8",
               "dec_cl": "f8", "n_galaxies": "i8", "n_members": "i8"}


def fields_to_tables(fields: list[MockField], split: str, first_id: int, survey: SurveyConfig,
                     cosmology, galaxy_halo: bool = False) -> tuple[Table, Table]:
    """FIELDS and GALAXIES tables of one split (field ids from ``first_id``), with the
    drawn nuisance values when the fields were made with a ``galaxy_halo`` prior."""
    ids = first_id + np.arange(len(fields))
    table = Table({"field_id": ids})
    for name, dtype in _ROW_DTYPES.items():
        table[name] = np.array([f.row[name] for f in fields], dtype=dtype)
    if galaxy_halo:
        for name in NUISANCE_COLUMNS:
            table[name] = np.array([f.row[name] for f in fields], dtype="f8")
    counts = table["n_galaxies"]
    table["mag_lim_abs"] = (absolute_magnitude_limit(table["z_cl"], survey, cosmology)
                            if fields else np.zeros(0))
    table["split"] = np.full(len(fields), split, dtype="U12")
    table["gal_start"] = np.cumsum(counts) - counts
    galaxies = Table({"field_id": np.repeat(ids, counts)})
    for name in GALAXY_COLUMNS:
        if name != "field_id":
            galaxies[name] = (np.concatenate([f.galaxies[name] for f in fields]) if fields
                              else np.zeros(0))
    return table, galaxies


def make_training_set(universe: Universe, survey: SurveyConfig, out_dir: str | Path,
                      mock_config: MockConfig | None = None,
                      config: TrainingSetConfig | None = None,
                      universe_path: str | Path | None = None, progress: bool = True,
                      workers: int = 1, overwrite: bool = False) -> dict:
    """Make mock fields from ``universe`` for ``survey`` and write a training set to
    ``out_dir`` (see :mod:`surveymass.mocks.trainingset`); returns the manifest.
    ``workers`` > 1 makes fields in that many forked processes (same result).

    Every check (output folder, survey, mass range, box size) runs before any field is
    made; an existing training set in ``out_dir`` is replaced only with ``overwrite``."""
    mock_config = mock_config or MockConfig()
    config = config or TrainingSetConfig()
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    check_outputs([output_folder(out_dir)], overwrite)
    by_split, shortfall = _universe_fields(universe, survey, mock_config, config, progress,
                                           workers)
    record = _universe_record(universe, universe_path)
    return _write(by_split, shortfall, survey, out_dir, mock_config, config, [record],
                  overwrite)


#: Stride of the halo and galaxy ids of the k-th universe of an ensemble (ids + k stride):
#: ids stay unique across realisations, each of which numbers fewer than 2^40 of either.
ENSEMBLE_ID_STRIDE = 1 << 40


def make_ensemble_training_set(paths: list[str | Path], survey: SurveyConfig,
                               out_dir: str | Path, mock_config: MockConfig | None = None,
                               config: TrainingSetConfig | None = None,
                               progress: bool = True, workers: int = 1,
                               overwrite: bool = False) -> dict:
    """One training set from several universe files (an ensemble of realisations), loaded
    one at a time: each gives its share of the fields (``config.n_fields`` and
    ``n_natural`` divided among them, flat in mass in each), its halo and galaxy ids
    offset by k :data:`ENSEMBLE_ID_STRIDE` so that they stay unique and the splits stay by
    halo. The universes must share cosmology and redshift; every file is checked before
    any field is made."""
    mock_config = mock_config or MockConfig()
    config = config or TrainingSetConfig()
    check_outputs([output_folder(out_dir)], overwrite)
    share = _ensemble_share(config, len(paths))
    _check_one_source(paths, survey, mock_config, share)
    by_split = {name: [] for name in ("train", "val", "test", "test_natural")}
    shortfall: dict[str, int] = {}
    records = []
    for k, path in enumerate(paths):
        with UniverseFile(path) as source:
            universe = source.load()
        _offset_ids(universe, k * ENSEMBLE_ID_STRIDE)
        fields, missing = _universe_fields(universe, survey, mock_config, share, progress,
                                           workers)
        for name, items in fields.items():
            by_split[name] += items
        for edge, n in missing.items():
            shortfall[edge] = shortfall.get(edge, 0) + n
        records.append({**_universe_record(universe, paths[k]),
                        "id_offset": k * ENSEMBLE_ID_STRIDE})
        del universe
    return _write(by_split, shortfall, survey, out_dir, mock_config, share, records,
                  overwrite)


def _ensemble_share(config: TrainingSetConfig, n_universes: int) -> TrainingSetConfig:
    """Each universe's part of ``config``: fields and natural fields divided evenly."""
    if n_universes < 1:
        raise InputError("give at least one universe file")
    return dataclasses.replace(config, n_fields=math.ceil(config.n_fields / n_universes),
                               n_natural=math.ceil(config.natural_fields / n_universes))


def _check_one_source(paths: list[str | Path], survey: SurveyConfig,
                      mock_config: MockConfig, share: TrainingSetConfig) -> None:
    """Universes given as one source must agree in cosmology and redshift, and each must
    fill its share of the mass bins (checked on the halos alone, before any loading)."""
    first = None
    for path in paths:
        with UniverseFile(path) as source:
            first = first or (source.path, source.redshift, source.cosmology)
            first_path, first_z, first_cosmology = first
            if not (same_cosmology(source.cosmology, first_cosmology)
                    and np.isclose(source.redshift, first_z, atol=1e-6)):
                raise InputError(
                    f"{source.path} (z = {source.redshift:g}, "
                    f"{cosmology_to_dict(source.cosmology)}) and {first_path} (z = "
                    f"{first_z:g}, {cosmology_to_dict(first_cosmology)}) differ in cosmology "
                    "or redshift: the universes of one source must share both")
            check_window(survey, mock_config, source.cosmology, source.box_size)
            check_fillable(np.log10(source.read("halos", ["m200c"])["m200c"]), share.bins,
                           share.per_bin, share.max_los)


def _offset_ids(universe: Universe, offset: int) -> None:
    """Add ``offset`` to the universe's halo, host and galaxy ids (in place)."""
    if offset:
        universe.halos["halo_id"] = universe.halos["halo_id"] + offset
        for name in ("host_id", "galaxy_id"):
            universe.galaxies[name] = universe.galaxies[name] + offset


def _universe_record(universe: Universe, path: str | Path | None) -> dict:
    return {"path": str(path) if path else None, "box_size": universe.box_size,
            "redshift": universe.redshift, "n_halos": universe.n_halos,
            "n_galaxies": universe.n_galaxies,
            "cosmology": cosmology_to_dict(universe.cosmology), "config": universe.config,
            "provenance": universe.provenance}


def _universe_fields(universe: Universe, survey: SurveyConfig, mock_config: MockConfig,
                     config: TrainingSetConfig, progress: bool, workers: int
                     ) -> tuple[dict[str, list[MockField]], dict]:
    """The fields of one universe by split, and the shortfall per mass bin."""
    halos = universe.halos
    log_mass = np.log10(halos["m200c"])
    check_fillable(log_mass, config.bins, config.per_bin, config.max_los)
    maker = FieldMaker(universe, survey, mock_config, seed=config.seed)
    split_of = assign_splits(halos["halo_id"], log_mass, config.bins, config.fractions,
                             config.seed)
    n_natural = config.natural_fields
    directions = HaloDirections(config.max_los, config.seed)
    with progress_bar(total=config.per_bin * config.bins.n_bins + n_natural, unit="field",
                      desc="mock fields", quiet=not progress) as bar, \
            FieldRunner(maker, directions, workers) as runner:
        fields, shortfall = flat_fields(runner, config, bar)
        test_ids = [halo for halo, split in split_of.items() if split == "test"]
        test_rows = np.flatnonzero(np.isin(halos["halo_id"], test_ids))
        natural = natural_fields(runner, test_rows, n_natural, config.seed, bar)
    by_split = {name: [f for f in fields if split_of[f.row["halo_id"]] == name]
                for name in ("train", "val", "test")}
    by_split["test_natural"] = natural
    return by_split, shortfall


def _write(by_split: dict[str, list[MockField]], shortfall: dict, survey: SurveyConfig,
           out_dir: str | Path, mock_config: MockConfig, config: TrainingSetConfig,
           universes: list[dict], overwrite: bool) -> dict:
    """The split tables and the manifest, written as one training set; ``universes``: the
    records of the universes the fields come from (the first is the manifest's
    ``universe``, all of them its ``ensemble`` when there are several)."""
    cosmology = cosmology_from_dict(universes[0]["cosmology"])
    tables, first_id = {}, 0
    for name, items in by_split.items():
        tables[name] = fields_to_tables(items, name, first_id, survey, cosmology,
                                        galaxy_halo=mock_config.galaxy_halo is not None)
        first_id += len(items)
    paths = [u["path"] for u in universes]
    manifest = {
        "setup": mock_config.to_dict(),
        "sampling": config.to_dict(),
        "survey": survey.to_dict(),
        "universe": universes[0],
        "shortfall_per_bin": shortfall,
        "splits": {name: summarize(*tables[name], config.bins) for name in tables},
        "provenance": provenance(seed=config.seed,
                                 universe=paths[0] if len(paths) == 1 else paths,
                                 survey=survey.name),
    }
    if len(universes) > 1:
        manifest["ensemble"] = universes
    write_training_set(out_dir, tables, manifest, overwrite)
    return manifest
