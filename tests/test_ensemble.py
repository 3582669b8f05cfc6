"""Universe ensembles on Dask (``surveymass universe --seeds``): a local cluster of 2 worker
processes (no network: the scheduler and workers talk over 127.0.0.1) builds the same files
as the single-process build of each seed."""

from __future__ import annotations

import time

import h5py
import numpy as np
import pytest

from surveymass.cli import main
from surveymass.errors import InputError
from surveymass.universe.ensemble import build_ensemble, dask_client, ensemble_paths
from surveymass.universe.synthetic import build_universe
from surveymass.universe.synthetic.config import SyntheticConfig

TINY = SyntheticConfig(box_size=80.0)
LOCALHOST = pytest.mark.allow_hosts(["127.0.0.1"])


def _datasets(path) -> dict[str, np.ndarray]:
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, item: out.__setitem__(name, item[()])
                     if isinstance(item, h5py.Dataset) else None)
    return out


@LOCALHOST
def test_an_ensemble_on_two_workers_equals_the_single_process_builds(tmp_path):
    with dask_client(workers=2) as client:
        paths = build_ensemble(TINY, [3, 5], str(tmp_path / "u_{seed}.h5"), client)
    assert [p.name for p in paths] == ["u_3.h5", "u_5.h5"]
    for seed, path in zip([3, 5], paths):
        alone = build_universe(SyntheticConfig(box_size=80.0, seed=seed),
                               tmp_path / f"alone_{seed}.h5", progress=False)
        a, b = _datasets(path), _datasets(alone)
        assert a.keys() == b.keys() and len(a) > 10
        assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(_datasets(paths[0])["halos/m200c"],
                              _datasets(paths[1])["halos/m200c"])  # independent seeds


@LOCALHOST
def test_the_cli_builds_an_ensemble_and_refuses_to_replace_it(tmp_path, capsys):
    args = ["universe", "-o", str(tmp_path / "u_{seed}.h5"), "--box", "80", "--seeds", "1",
            "--seeds", "2", "--workers", "2", "-q"]
    assert main(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u_1.h5", "u_2.h5"]
    capsys.readouterr()
    assert main(args) == 2  # both exist: nothing is rebuilt without --overwrite
    assert "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("pattern, seeds, message", [
    ("u.h5", [1, 2], r"put \{seed\} in it"),
    ("u_{seed}.h5", [1, 1], "repeat"),
])
def test_bad_ensemble_outputs_are_refused(pattern, seeds, message):
    with pytest.raises(InputError, match=message):
        ensemble_paths(pattern, seeds)


@LOCALHOST
def test_a_scheduler_that_does_not_answer_is_a_clear_error_in_time():
    start = time.perf_counter()
    with pytest.raises(InputError, match="no Dask scheduler answered at 'tcp://127.0.0.1:9'"):
        dask_client(scheduler="tcp://127.0.0.1:9", timeout_s=2.0)
    assert time.perf_counter() - start < 15.0


def test_workers_without_seeds_are_refused(tmp_path, capsys):
    assert main(["universe", "-o", str(tmp_path / "u.h5"), "--box", "80", "--workers", "2",
                 "-q"]) == 2
    assert "give --seeds too" in capsys.readouterr().err
