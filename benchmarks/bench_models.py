"""Speed of the models: inference of 1000 fields x 1000 posterior samples (target <= 5 s on
CPU) and the projected training time of the default configuration on a training set of
the default size (``TrainingSetConfig().n_fields``; target <= 60 min on 2 CPU cores).

    python benchmarks/bench_models.py                 # both, default architecture
    python benchmarks/bench_models.py --train-fields 3000 --repeats 5

Fields are toy clusters (tests/toy_clusters.py) with SDSS-like richness (10-250 galaxies,
interlopers included); timings depend only on galaxy counts and network sizes, not on
whether the weights are trained. Training time is measured per epoch on
``--train-fields`` fields and scaled linearly to ``--target-fields`` fields and the
default maximum number of epochs (the worst case: early stopping usually ends sooner).
Prints medians over repeats with the machine; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _machine import machine  # benchmarks/ is on sys.path
from toy_clusters import write_toy_training_set  # noqa: E402

from surveymass.cosmology import default_cosmology  # noqa: E402
from surveymass.halo import evrard2008  # noqa: E402
from surveymass.mocks.config import TrainingSetConfig  # noqa: E402
from surveymass.models.bundle import Bundle, build_networks  # noqa: E402
from surveymass.models.datasets import load_split, training_set_info  # noqa: E402
from surveymass.models.deepsets import Architecture  # noqa: E402
from surveymass.models.device import resolve_device  # noqa: E402
from surveymass.models.features import Normalisation, compute_features  # noqa: E402
from surveymass.models.pipeline import Split, train_classifier, train_posterior  # noqa: E402
from surveymass.models.predict import predict  # noqa: E402
from surveymass.models.training import TrainingConfig  # noqa: E402
from surveymass.phasespace import Aperture  # noqa: E402

INFERENCE_TARGET_S = 5.0
TRAINING_TARGET_MIN = 60.0


def machine_line() -> str:
    return f"{machine()}; torch threads {torch.get_num_threads()}; torch {torch.__version__}"


def toy_bundle(fields, survey, architecture: Architecture) -> Bundle:
    posterior, classifier = build_networks(architecture, "cylindrical")
    return Bundle(name="bench", setup="cylindrical", survey=survey, aperture=Aperture(),
                  cosmology=default_cosmology(),
                  normalisation=Normalisation.fit(compute_features(fields, survey.mag_limit)),
                  msigma=replace(evrard2008(), estimator="gapper"), architecture=architecture,
                  posterior=posterior, classifier=classifier)


def bench_inference(folder, architecture, repeats, device) -> float:
    fields = load_split(folder, "test")
    bundle = toy_bundle(fields, training_set_info(folder).survey, architecture)
    predict(bundle, fields.subset(np.arange(50)), n_samples=100, device=device)  # warm-up
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        predict(bundle, fields, n_samples=1000, seed=seed, device=device)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"inference: {fields.n_fields} fields ({int(fields.offsets[-1])} galaxies) x 1000 "
          f"samples: median {median:.2f} s over {repeats} (target <= {INFERENCE_TARGET_S} s)")
    return median


def bench_training(folder, architecture, config, target_fields, repeats, device) -> float:
    info = training_set_info(folder)
    raw = {k: load_split(folder, k) for k in ("train", "val")}
    norm = Normalisation.fit(compute_features(raw["train"], info.survey.mag_limit))
    splits = {k: Split(f, norm.apply(compute_features(f, info.survey.mag_limit)),
                       p_member=np.full(f.offsets[-1], 0.5),
                       log10_m_sigma=f.log10_m200c + 0.1) for k, f in raw.items()}
    one_epoch = TrainingConfig(**{**config.to_dict(), "max_epochs": 1})
    times = {"classifier": [], "posterior": []}
    for _ in range(repeats + 1):  # the first round warms up
        posterior, classifier = build_networks(architecture, "cylindrical")
        for key, train, net in (("classifier", train_classifier, classifier),
                                ("posterior", train_posterior, posterior)):
            start = time.perf_counter()
            train(net, splits, one_epoch, device, quiet=True)
            times[key].append(time.perf_counter() - start)
    t_classifier = statistics.median(times["classifier"][1:])
    t_posterior = statistics.median(times["posterior"][1:])
    n_fields = raw["train"].n_fields + raw["val"].n_fields
    scale = target_fields / n_fields * config.max_epochs / 60.0
    projected = (t_classifier + t_posterior) * scale
    print(f"training: one epoch on {raw['train'].n_fields} + {raw['val'].n_fields} fields "
          f"({int(raw['train'].offsets[-1] + raw['val'].offsets[-1])} galaxies), median of "
          f"{repeats}: classifier {t_classifier:.1f} s, posterior {t_posterior:.1f} s; "
          f"projected for {target_fields} fields x {config.max_epochs} epochs: "
          f"{projected:.0f} min (target <= {TRAINING_TARGET_MIN} min)")
    return projected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-fields", type=int, default=2000)
    parser.add_argument("--target-fields", type=int, default=TrainingSetConfig().n_fields)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(machine_line())
    architecture, config = Architecture(), TrainingConfig()
    print(f"architecture {architecture.to_dict()}; batch size {config.batch_size}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_toy_training_set(  # about 85 galaxies per field, as SDSS-like mocks
            Path(tmp) / "ts", {"train": args.train_fields, "val": args.train_fields // 8,
                               "test": 1000}, seed=0, log10_m_range=(13.5, 15.1))
        inference = bench_inference(folder, architecture, args.repeats, device)
        training = bench_training(folder, architecture, config, args.target_fields,
                                  args.repeats, device)
    return 0 if inference <= INFERENCE_TARGET_S and training <= TRAINING_TARGET_MIN else 1


if __name__ == "__main__":
    sys.exit(main())
