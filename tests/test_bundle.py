"""Model bundles (save/load, tampering, pickled code) and the train/evaluate commands."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import shutil

import numpy as np
import pytest
import torch
from astropy.io import fits
from toy_clusters import trained_toy_bundle, write_toy_training_set

from surveymass.cli import main
from surveymass.errors import InputError
from surveymass.models.bundle import CARD, INTEGRITY, WEIGHTS, load_bundle, save_bundle, write_card
from surveymass.models.datasets import load_split
from surveymass.models.predict import predict


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    """One torch thread: the test machine's cores are shared."""
    monkeypatch.setenv("SURVEYMASS_CPU_THREADS", "1")
    torch.set_num_threads(1)


@pytest.fixture
def bundle_copy(tmp_path_factory, tmp_path):
    data, folder = trained_toy_bundle(tmp_path_factory)
    copy = tmp_path / "bundle"
    shutil.copytree(folder, copy)
    return data, copy


def _edit_card(folder, edit, seal=True):
    """Edit the card; ``seal`` re-seals it (as a consistent but wrong card would be)."""
    card = json.loads((folder / CARD).read_text())
    edit(card)
    if seal:
        write_card(folder, card)
    else:  # by hand, as a user would
        (folder / CARD).write_text(json.dumps(card, indent=1))


def _scale_first_std(card):
    card["features"]["galaxy_std"][0] *= 10


@pytest.mark.parametrize("edit, named", [
    (lambda c: c["msigma"].update(slope=0.440), "['msigma.slope']"),
    (_scale_first_std, "['features.galaxy_std']"),
    (lambda c: c["aperture"].update(r_max=2.0, v_max=3000.0),
     "['aperture.r_max', 'aperture.v_max']"),
    (lambda c: c["metrics"].update(note="better than it was"), "added ['metrics.note']"),
    (lambda c: c.pop("training"), "removed ['training."),
])
def test_hand_edited_card_is_refused_naming_what_changed(bundle_copy, edit, named):
    _, folder = bundle_copy
    load_bundle(folder)  # as saved: loads
    _edit_card(folder, edit, seal=False)
    with pytest.raises(InputError, match="was edited after the bundle was saved") as err:
        load_bundle(folder)
    assert named in str(err.value)


def test_reformatted_card_with_the_same_content_loads(bundle_copy):
    _, folder = bundle_copy
    card = json.loads((folder / CARD).read_text())
    (folder / CARD).write_text(json.dumps(dict(reversed(card.items())), indent=4))
    assert load_bundle(folder).msigma.slope == card["msigma"]["slope"]


def test_card_without_a_checksum_is_refused(bundle_copy):
    _, folder = bundle_copy
    _edit_card(folder, lambda c: c.pop(INTEGRITY), seal=False)
    with pytest.raises(InputError, match="no integrity checksum"):
        load_bundle(folder)


def test_shipped_bundle_is_sealed_and_loads():
    bundle = load_bundle("sdss_legacy")
    assert bundle.setup == "cylindrical" and round(bundle.msigma.slope, 4) == 0.3517


def test_round_trip_gives_identical_weights_and_predictions(bundle_copy, tmp_path):
    data, folder = bundle_copy
    bundle = load_bundle(folder)
    again = load_bundle(save_bundle(bundle, tmp_path / "again"))
    for key, value in bundle.state_tensors().items():
        torch.testing.assert_close(again.state_tensors()[key], value, rtol=0, atol=0)
    fields = load_split(data, "test").subset(np.arange(5))
    np.testing.assert_array_equal(predict(bundle, fields, 20, seed=2, device="cpu").samples,
                                  predict(again, fields, 20, seed=2, device="cpu").samples)
    assert again.msigma == bundle.msigma and again.setup == "cylindrical"
    card = json.loads((tmp_path / "again" / CARD).read_text())
    before = json.loads((folder / CARD).read_text())[INTEGRITY]["entries"]
    after = card[INTEGRITY]["entries"]
    rewritten = ("provenance.", "weights.sha256")  # torch.save's bytes name the temp file
    assert {k: v for k, v in after.items() if not k.startswith(rewritten)} == \
        {k: v for k, v in before.items() if not k.startswith(rewritten)}
    assert "msigma.slope" in after and "features.galaxy_std" in after
    assert card["training"]["n_fields"] == {"train": 300, "val": 80, "test": 120}
    assert set(card) >= {"survey", "aperture", "cosmology", "features", "msigma", "metrics",
                         "architecture", "weights", "provenance"}


def test_card_that_does_not_match_the_weights_is_refused(bundle_copy):
    _, folder = bundle_copy
    _edit_card(folder, lambda c: c["architecture"].update(width=64))
    with pytest.raises(InputError, match="do not match the architecture"):
        load_bundle(folder)


@pytest.mark.parametrize("bad", [dict(width=64.5), dict(depth=2.5)])
def test_card_with_bad_layer_sizes_is_a_clear_error(bundle_copy, bad):
    _, folder = bundle_copy
    _edit_card(folder, lambda c: c["architecture"].update(bad))
    with pytest.raises(InputError, match="malformed entry"):
        load_bundle(folder)


def test_non_integer_cpu_threads_is_a_clear_error(monkeypatch):
    from surveymass.models.device import resolve_device

    for bad in ("two", "1.5", "0", ""):
        monkeypatch.setenv("SURVEYMASS_CPU_THREADS", bad)
        with pytest.raises(InputError, match="SURVEYMASS_CPU_THREADS"):
            resolve_device("cpu")
    monkeypatch.setenv("SURVEYMASS_CPU_THREADS", "1")
    assert resolve_device("cpu").type == "cpu" and torch.get_num_threads() == 1


def test_changed_weights_are_refused(bundle_copy):
    _, folder = bundle_copy
    tensors = torch.load(folder / WEIGHTS, weights_only=True)
    next(iter(tensors.values())).add_(1.0)
    torch.save(tensors, folder / WEIGHTS)
    with pytest.raises(InputError, match="SHA-256"):
        load_bundle(folder)


def test_other_feature_list_is_refused(bundle_copy):
    _, folder = bundle_copy
    _edit_card(folder, lambda c: c["features"].update(galaxy_features=["v_los", "r_proj"]))
    with pytest.raises(InputError, match="features"):
        load_bundle(folder)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # would create a file if unpickled


def test_pickled_code_in_the_weights_is_never_run(bundle_copy, tmp_path):
    _, folder = bundle_copy
    marker = tmp_path / "payload_ran"
    with open(folder / WEIGHTS, "wb") as fh:
        pickle.dump({"posterior.x": _Payload(str(marker))}, fh, protocol=2)
    sha = hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()
    _edit_card(folder, lambda c: c["weights"].update(sha256=sha))  # get past the checksum
    with pytest.raises(InputError, match="plain tensor"):
        load_bundle(folder)
    assert not marker.exists()


def test_missing_bundle_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no model bundle"):
        load_bundle(tmp_path / "nothing")


def test_cli_train_and_evaluate_write_a_bundle_and_a_report(tmp_path, capsys):
    from surveymass.universe.synthetic.nuisance import load_prior

    data = write_toy_training_set(tmp_path / "ts", {"train": 60, "val": 20, "test": 30}, seed=9)
    bundle = tmp_path / "b"
    rc = main(["train", str(data), "--name", "cli", "-o", str(bundle), "--epochs", "2",
               "--width", "16", "--latent", "8", "--context", "8", "--device", "cpu",
               "--quiet"])
    assert rc == 0 and (bundle / CARD).exists()
    robust = write_toy_training_set(tmp_path / "ts_p10", {"train": 5, "val": 5, "test": 30},
                                    seed=10,
                                    galaxy_halo=load_prior("default", ["log_nsat_offset=p10"]))
    report = tmp_path / "report"
    capsys.readouterr()
    rc = main(["evaluate", str(bundle), str(data), "-o", str(report), "--samples", "100",
               "--device", "cpu", "--quiet", "--robustness", str(robust)])
    assert rc == 0
    out = capsys.readouterr().out
    assert re.search(r"^robustness log_nsat_offset=-0.105 \(p10\): (PASS|FAIL); max \|bias\| "
                     r"\d\.\d{3} dex .*richness sensitivity", out, re.M)
    numbers = json.loads((report / "report.json").read_text())
    assert len(numbers["summary"]["coverage"]["levels"]) >= 10
    # one line of sight per toy halo: as many halos as fields; a bias error where >= 5 halos
    bins = numbers["bins_npe"]
    assert all(b["n_halos"] == b["n"] for b in bins)
    assert all((b["median_err"] is not None) == (b["n_halos"] >= 5) for b in bins)
    assert all(b["median_err"] > 0 for b in bins if b["median_err"] is not None)
    assert {"predicted_vs_true.png", "coverage.png", "membership.png"} <= set(numbers["plots"])
    assert all((report / name).stat().st_size > 1000 for name in numbers["plots"])
    assert "shifting gapper" in (report / "report.md").read_text() or \
        "gapper F1" in (report / "report.md").read_text()


def test_cli_bad_training_sets_fail_cleanly(tmp_path, capsys):
    data = write_toy_training_set(tmp_path / "ts", {"train": 20, "val": 10, "test": 10}, seed=2)
    manifest = json.loads((data / "manifest.json").read_text())
    manifest["version"] = 99
    (data / "manifest.json").write_text(json.dumps(manifest))
    assert main(["train", str(data), "--name", "x", "-o", str(tmp_path / "b")]) == 2
    assert "version" in capsys.readouterr().err

    data = write_toy_training_set(tmp_path / "ts2", {"train": 20, "val": 10, "test": 10}, seed=2)
    with fits.open(data / "train.fits") as hdus:
        hdus["GALAXIES"].columns.del_col("v_los")
        hdus.writeto(data / "train.fits", overwrite=True)
    assert main(["train", str(data), "--name", "x", "-o", str(tmp_path / "b")]) == 2
    assert "v_los" in capsys.readouterr().err

    data = write_toy_training_set(tmp_path / "ts3", {"train": 20, "val": 0, "test": 10}, seed=2)
    assert main(["train", str(data), "--name", "x", "-o", str(tmp_path / "b"),
                 "--device", "cpu"]) == 2
    assert "empty" in capsys.readouterr().err
