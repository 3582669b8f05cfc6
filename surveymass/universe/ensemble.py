"""Universe ensembles: independent realisations (seeds) of one synthetic-universe config,
built in parallel on a Dask cluster (dask.distributed): a local cluster of worker processes
by default, or any running scheduler (an HPC batch allocation through dask-jobqueue, a
cloud cluster; docs/user_guide.md, "Universe ensembles").

Each realisation is the single-process build of its seed (:func:`build_universe`), one task
each, so the files are those ``surveymass universe --seed S`` writes, whichever worker
builds them. A task that fails (or whose worker dies) is retried once; its file is written
atomically, so a failed task leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dask.distributed import Client, LocalCluster, as_completed

from surveymass.errors import InputError
from surveymass.outputs import check_outputs
from surveymass.progress import progress_bar
from surveymass.universe.synthetic import build_universe
from surveymass.universe.synthetic.config import SyntheticConfig

#: Seconds to wait for a running scheduler before giving up on it.
SCHEDULER_TIMEOUT_S = 10.0
#: The placeholder of the seed in an ensemble's output pattern.
SEED_FIELD = "{seed}"


def ensemble_paths(pattern: str, seeds: list[int]) -> list[Path]:
    """The file of each seed: ``pattern`` with ``{seed}`` replaced (required for several
    seeds); seeds must be distinct."""
    if len(set(seeds)) != len(seeds):
        raise InputError(f"the seeds {seeds} repeat one: each realisation needs its own")
    if len(seeds) > 1 and SEED_FIELD not in pattern:
        raise InputError(f"-o {pattern!r} names one file for {len(seeds)} seeds: put "
                         f"{SEED_FIELD} in it (e.g. universe_{SEED_FIELD}.h5)")
    return [Path(pattern.replace(SEED_FIELD, str(seed))) for seed in seeds]


def dask_client(workers: int = 1, scheduler: str | None = None,
                timeout_s: float = SCHEDULER_TIMEOUT_S) -> Client:
    """A client of the scheduler at ``scheduler``, or of a new local cluster of ``workers``
    single-threaded worker processes; InputError when the scheduler does not answer
    within ``timeout_s``."""
    if scheduler is None:
        if workers < 1:
            raise InputError(f"--workers must be at least 1, got {workers}")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0")  # any free port: never a clash
        return Client(cluster)
    try:
        return Client(scheduler, timeout=timeout_s)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"no Dask scheduler answered at {scheduler!r} within {timeout_s:g} "
                         f"s ({type(exc).__name__}); start one (dask scheduler, "
                         "dask-jobqueue) or leave out --scheduler for a local cluster") from None


def build_ensemble(config: SyntheticConfig, seeds: list[int], pattern: str,
                   client: Client, overwrite: bool = False, progress: bool = False
                   ) -> list[Path]:
    """Build the universe of ``config`` once per seed into ``pattern`` (see
    :func:`ensemble_paths`) on ``client``'s cluster; every output is checked before any
    work; returns the files in the order of ``seeds``."""
    paths = ensemble_paths(pattern, seeds)
    check_outputs(paths, overwrite)
    configs = [dataclasses.replace(config, seed=seed) for seed in seeds]
    futures = client.map(build_universe, configs, [str(p) for p in paths], progress=False,
                         overwrite=overwrite, pure=False, retries=1)
    for future in progress_bar(as_completed(futures), total=len(futures), desc="universes",
                               unit="universe", quiet=not progress):
        future.result()  # a task's error, raised here with its own message
    return paths
