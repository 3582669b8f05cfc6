"""Protecting the user's outputs: checked before the work, replaced only with --overwrite and
all together, no temporary file left by a failure, Ctrl-C or SIGTERM (surveymass.outputs)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from surveymass import outputs
from surveymass.cli import main
from surveymass.errors import InputError
from surveymass.models.bundle import CARD, DEFAULT_BUNDLE, WEIGHTS
from surveymass.outputs import Folder, check_outputs, staged_outputs
from surveymass.paths import TRAINED_MODELS

REPO = Path(__file__).resolve().parents[1]


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_staged_outputs_move_files_and_folders_into_place_together(tmp_path):
    old_file, old_folder = tmp_path / "a.ecsv", tmp_path / "set"
    old_file.write_text("old a")
    old_folder.mkdir()
    (old_folder / "manifest.json").write_text("old")
    (old_folder / "stale.fits").write_text("old split")
    targets = [old_file, Folder(old_folder, "manifest.json", "training set"),
               tmp_path / "new" / "b.fits"]
    with pytest.raises(InputError, match=f"{old_file} exists.*--overwrite"):
        check_outputs(targets)
    with staged_outputs(targets, overwrite=True) as (a, folder, b):
        assert a.suffix == ".ecsv" and b.suffix == ".fits" and not a.exists()
        a.write_text("new a")
        (folder / "manifest.json").write_text("new")
        b.write_text("new b")
        assert old_file.read_text() == "old a"  # nothing replaced before the end
    assert _tree(tmp_path) == {"a.ecsv": b"new a", "set/manifest.json": b"new",
                               "new/b.fits": b"new b"}  # the folder replaced whole


def test_a_failure_while_moving_into_place_restores_every_old_output(tmp_path, monkeypatch):
    for name in ("a.ecsv", "b.fits"):
        (tmp_path / name).write_text(f"old {name}")
    real_replace, placed = os.replace, []

    def replace(src, dst):
        if Path(src).name.startswith(".b.fits.") and "old-" not in Path(src).name:
            raise OSError("disk full")
        placed.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", replace)
    with pytest.raises(InputError, match="disk full.*previous outputs are unchanged"):
        with staged_outputs([tmp_path / "a.ecsv", tmp_path / "b.fits"], True) as (a, b):
            a.write_text("new a")
            b.write_text("new b")
    assert _tree(tmp_path) == {"a.ecsv": b"old a.ecsv", "b.fits": b"old b.fits"}


def test_a_failure_while_writing_leaves_no_temporary(tmp_path):
    (tmp_path / "a.ecsv").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with staged_outputs([tmp_path / "a.ecsv", Folder(tmp_path / "r", "x", "report")],
                            overwrite=True) as (a, folder):
            a.write_text("half")
            (folder / "x").write_text("half")
            raise KeyboardInterrupt
    assert _tree(tmp_path) == {"a.ecsv": b"old"} and os.listdir(tmp_path) == ["a.ecsv"]


def test_unwritable_locations_are_found_before_any_work(tmp_path, monkeypatch):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="file.txt is a file, not a folder"):
        check_outputs([tmp_path / "file.txt" / "sub" / "out.ecsv"])
    (tmp_path / "dir.ecsv").mkdir()
    with pytest.raises(InputError, match="is a folder; give a file name"):
        check_outputs([tmp_path / "dir.ecsv"])

    def denied(*args, **kwargs):  # the tests run as root, which chmod does not stop
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs.tempfile, "mkstemp", denied)
    with pytest.raises(InputError, match=f"no permission to create files in {tmp_path}"):
        check_outputs([tmp_path / "new" / "out.ecsv"])


def test_a_folder_surveymass_did_not_write_is_never_replaced(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    with pytest.raises(InputError, match="holds other files and is not a evaluation report"):
        check_outputs([Folder(tmp_path, "report.json", "evaluation report")], overwrite=True)
    check_outputs([Folder(tmp_path / "empty", "report.json", "evaluation report")])


def _bundle_tree() -> dict[str, str]:
    return {name: hashlib.sha256((TRAINED_MODELS / DEFAULT_BUNDLE / name).read_bytes())
            .hexdigest() for name in (CARD, WEIGHTS)}


def test_training_over_a_shipped_bundle_needs_overwrite_and_says_so(tmp_path, capsys,
                                                                    monkeypatch):
    from surveymass.models import datasets, pipeline

    def no_work(*args, **kwargs):
        raise AssertionError("the training started before the output was checked")

    monkeypatch.setattr(datasets, "training_set_info", no_work)
    before = _bundle_tree()
    assert main(["train", str(tmp_path), "--name", "sdss_legacy", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "is the shipped bundle 'sdss_legacy'" in err and "--overwrite" in err
    with pytest.raises(InputError, match="shipped bundle"):
        pipeline.train_bundle(tmp_path, "x", TRAINED_MODELS / "sdss_legacy")
    with pytest.raises(InputError, match="file.txt is a file, not a folder"):
        (tmp_path / "file.txt").write_text("x")
        pipeline.train_bundle(tmp_path, "x", tmp_path / "file.txt" / "bundle")
    assert _bundle_tree() == before


@pytest.mark.parametrize("command, existing", [
    (["universe", "--box", "80", "-o", "{out}"], "file"),
    (["universe", "check", "missing.h5", "-o", "{out}"], "report.json"),
    (["mocks", "-u", "missing.h5", "-o", "{out}"], "manifest.json"),
    (["train", "missing_set", "--name", "x", "-o", "{out}"], CARD),
    (["evaluate", "sdss_legacy", "missing_set", "-o", "{out}"], "report.json"),
    (["compare", "missing.ecsv", "--against", "literature", "--plot", "{out}"], "file"),
    (["fetch", "coma", "-o", "{out}"], "file"),
    (["calibrate", "-u", "missing.h5", "-o", "{out}"], "calibration.json"),
])
def test_every_writing_command_refuses_an_existing_output_before_the_work(
        tmp_path, capsys, command, existing):
    out = tmp_path / "out"
    if existing == "file":
        out.write_text("mine")
    else:
        out.mkdir()
        (out / existing).write_text("mine")
    before = _tree(tmp_path)
    args = [a.format(out=out) for a in command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--overwrite" in err, err
    assert _tree(tmp_path) == before


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path):
    """`surveymass universe` killed with SIGTERM while its HDF5 file is open: the hidden
    temporary beside the output is removed (the writer is the real one, made slow)."""
    script = textwrap.dedent("""
        import sys, time
        import surveymass.universe.synthetic as synthetic
        from surveymass.cosmology import default_cosmology
        from surveymass.universe.store import UniverseWriter

        def slow_build(config, path, progress=True, overwrite=False):
            with UniverseWriter(path, default_cosmology(), 0.1, 100.0, overwrite=overwrite):
                print("writing", flush=True)
                time.sleep(60)

        synthetic.build_universe = slow_build
        from surveymass.cli import main
        sys.exit(main(["universe", "-o", sys.argv[1], "-q"]))
    """)
    out = tmp_path / "u.h5"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert [p.name for p in tmp_path.iterdir()][0].startswith(".u.h5.")  # the temporary
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        proc.kill()
    assert "terminated (SIGTERM)" in proc.stderr.read()
    assert list(tmp_path.iterdir()) == []
