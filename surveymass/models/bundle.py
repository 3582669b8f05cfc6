"""Model bundles: a folder ``trained_models/NAME/`` (shipped or the user's, see
:mod:`surveymass.paths`) with ``model_card.json`` and ``weights.pt``.

The weights file holds only tensors (a flat ``{"posterior.<name>": tensor,
"classifier.<name>": tensor}`` dict written by ``torch.save``) and is read with
``torch.load(weights_only=True)``, which refuses to run code from the file. The card
describes everything needed to rebuild and use the networks (survey, aperture, cosmology,
setup, feature list and normalisation, M–sigma fit, architecture) plus what the bundle
was trained on, how, and how well it does. Loading checks that the card, the weights
(SHA-256, tensor names and shapes) and the code's feature list agree, and that the card
itself is as it was saved: its ``integrity`` entry holds the SHA-256 of the canonical JSON
of everything else in the card, and one digest per entry (two levels deep, e.g.
``msigma.slope``) so that a refused card can say which entries changed.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from surveymass.config import dataclass_from_dict
from surveymass.cosmology import cosmology_from_dict, cosmology_to_dict
from surveymass.errors import InputError
from surveymass.halo import MSigmaRelation
from surveymass.models.classifier import InterloperClassifier
from surveymass.models.deepsets import Architecture
from surveymass.models.features import Normalisation, feature_set
from surveymass.models.posterior import MassPosterior
from surveymass.models.typicality import CARD_ENTRY as TYPICALITY_ENTRY
from surveymass.models.typicality import Reference, load_reference, write_reference
from surveymass.outputs import Folder, check_outputs, staged_outputs
from surveymass.paths import TRAINED_MODELS, shipped, user_models
from surveymass.phasespace import SETUPS, Aperture
from surveymass.provenance import atomic_path, file_sha256, provenance
from surveymass.survey import SurveyConfig

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

FORMAT = "surveymass-bundle"
VERSION = 1
CARD = "model_card.json"
WEIGHTS = "weights.pt"
INTEGRITY = "integrity"
#: The bundle ``surveymass infer`` uses when none is named.
DEFAULT_BUNDLE = "sdss_legacy"


@dataclass
class Bundle:
    """Everything a trained model needs at inference time.

    ``classifier`` is None for the idealised setup (every galaxy is a member);
    ``info`` holds the card's descriptive entries (training data, metrics, timings);
    ``reference`` the held-out mock summaries of the misspecification check
    (:mod:`surveymass.models.typicality`), None for a bundle without one.
    """

    name: str
    setup: str
    survey: SurveyConfig
    aperture: Aperture
    cosmology: FLRW
    normalisation: Normalisation
    msigma: MSigmaRelation
    architecture: Architecture
    posterior: MassPosterior
    classifier: InterloperClassifier | None
    info: dict = field(default_factory=dict)
    reference: Reference | None = None

    def to(self, device) -> Bundle:
        """Move the networks to ``device`` (in place) and return self."""
        self.posterior.to(device)
        if self.classifier is not None:
            self.classifier.to(device)
        return self

    def card(self) -> dict:
        """The model card (without the weights entry, which :func:`save_bundle` adds)."""
        return {
            "format": FORMAT, "version": VERSION, "name": self.name, "setup": self.setup,
            "survey": self.survey.to_dict(),
            "aperture": {"r_max": self.aperture.r_max, "v_max": self.aperture.v_max,
                         "min_galaxies": self.aperture.min_galaxies},
            "cosmology": cosmology_to_dict(self.cosmology),
            "features": self.normalisation.to_dict(),
            "msigma": self.msigma.to_dict(),
            "architecture": self.architecture.to_dict(),
            **self.info,
        }

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """All weights as one flat dict of CPU tensors."""
        tensors = {f"posterior.{k}": v.detach().cpu() for k, v in
                   self.posterior.state_dict().items()}
        if self.classifier is not None:
            tensors.update({f"classifier.{k}": v.detach().cpu() for k, v in
                            self.classifier.state_dict().items()})
        return tensors


def build_networks(architecture: Architecture, setup: str, features: str = "full"
                   ) -> tuple[MassPosterior, InterloperClassifier | None]:
    """Fresh (untrained) posterior and classifier for the feature set ``features``.

    The posterior reads the galaxy features plus the membership probability.
    """
    n_galaxy, n_field = (len(names) for names in feature_set(features))
    posterior = MassPosterior(n_galaxy + 1, n_field, architecture)
    classifier = (InterloperClassifier(n_galaxy, n_field, architecture)
                  if setup == "cylindrical" else None)
    return posterior, classifier


def bundle_path(name_or_path: str | Path) -> Path:
    """A bundle folder: a path, or a name: the shipped bundle of that name if there is one,
    else the user's (``user_models()/NAME``, where ``train`` writes it)."""
    path = Path(name_or_path)
    if path.is_dir() or path.is_absolute() or len(path.parts) > 1:
        return path
    return shipped("bundle", path) or user_models() / path


def bundle_names() -> dict[str, list[str]]:
    """The names of the shipped and the user's bundles."""
    def names(folder: Path) -> list[str]:
        return sorted(p.name for p in folder.glob("*") if (p / CARD).exists())
    return {"shipped": names(TRAINED_MODELS), "user": names(user_models())}


def _digest(value) -> str:
    """SHA-256 of the canonical JSON of ``value`` (sorted keys, no whitespace)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _entry_digests(card: dict) -> dict[str, str]:
    """One digest per card entry, two levels deep (``msigma.slope``, ``training.manifest``)."""
    digests = {}
    for key, value in card.items():
        if isinstance(value, dict) and value:
            digests.update({f"{key}.{sub}": _digest(v) for sub, v in value.items()})
        else:
            digests[key] = _digest(value)
    return digests


def card_integrity(card: dict) -> dict:
    """The ``integrity`` entry of ``card``: the checksum of everything else in it."""
    content = {k: v for k, v in card.items() if k != INTEGRITY}
    return {"algorithm": "sha256 of canonical JSON (sorted keys, no whitespace)",
            "sha256": _digest(content), "entries": _entry_digests(content)}


def write_card(folder: str | Path, card: dict) -> Path:
    """Write ``card`` to ``folder/model_card.json`` (atomic) with its integrity checksum.

    Also the way to re-seal a card edited on purpose, or one saved before cards carried a
    checksum: ``write_card(folder, json.loads((folder / CARD).read_text()))``.
    """
    path = Path(folder) / CARD
    sealed = {**{k: v for k, v in card.items() if k != INTEGRITY},
              INTEGRITY: card_integrity(card)}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(sealed, indent=1))
    return path


def _check_integrity(path: Path, card: dict) -> None:
    """Refuse a card whose content differs from what its checksum covers, naming the entries."""
    record = card.get(INTEGRITY)
    if not isinstance(record, dict) or "sha256" not in record:
        raise InputError(f"{path} has no integrity checksum (entry {INTEGRITY!r}): it was not "
                         "written by save_bundle of this version of surveymass; retrain the "
                         "bundle, or see docs/models.md to re-seal a card you trust")
    current = card_integrity(card)
    if current["sha256"] == record["sha256"]:
        return
    saved, now = record.get("entries"), current["entries"]
    saved = saved if isinstance(saved, dict) else {}
    changed = sorted(k for k in set(saved) & set(now) if saved[k] != now[k])
    added, removed = sorted(set(now) - set(saved)), sorted(set(saved) - set(now))
    what = "; ".join(f"{label} {names}" for label, names in
                     (("changed", changed), ("added", added), ("removed", removed)) if names)
    raise InputError(f"{path} was edited after the bundle was saved ("
                     f"{what or 'its integrity record itself was changed'}): the card no "
                     "longer matches the checksum the networks were saved with; restore the "
                     "card as saved or retrain the bundle")


def check_bundle_output(folder: str | Path, overwrite: bool = False) -> None:
    """Raise :class:`InputError` unless a bundle can be written to ``folder``: it is not an
    existing bundle (unless ``overwrite``; a shipped one is named as such), and it can be
    created (:func:`surveymass.outputs.check_outputs`)."""
    folder = Path(folder)
    is_shipped = (folder.absolute().parent.resolve() == TRAINED_MODELS.resolve()
                  and (folder / CARD).exists())
    if is_shipped and not overwrite:
        raise InputError(f"{folder} is the shipped bundle {folder.name!r} (the model `surveymass "
                         "infer` uses by default): choose another --name or -o/--output, or "
                         "pass --overwrite (overwrite=True) to replace the shipped bundle")
    check_outputs([_folder(folder)], overwrite)


def _folder(folder: Path) -> Folder:
    return Folder(folder, CARD, "model bundle")


def save_bundle(bundle: Bundle, folder: str | Path, overwrite: bool = False) -> Path:
    """Write ``bundle`` to ``folder``: weights and card into a temporary folder that then
    replaces ``folder`` as a whole (an existing bundle only with ``overwrite``)."""
    folder = Path(folder)
    check_bundle_output(folder, overwrite)
    tensors = bundle.state_tensors()
    with staged_outputs([_folder(folder)], overwrite) as (tmp,):
        torch.save(tensors, tmp / WEIGHTS)
        card = bundle.card()
        card["weights"] = {"file": WEIGHTS, "sha256": file_sha256(tmp / WEIGHTS),
                           "tensors": {k: list(v.shape) for k, v in tensors.items()}}
        card["provenance"] = provenance(bundle=bundle.name)
        if bundle.reference is not None:
            card[TYPICALITY_ENTRY] = write_reference(tmp, bundle.reference.table,
                                                     bundle.info.get(TYPICALITY_ENTRY, {})
                                                     .get("split", "val"))
        write_card(tmp, card)
    return folder


def amend_bundle(folder: str | Path, entries: dict, reference: Reference | None = None,
                 split: str = "val") -> Path:
    """Add ``entries`` (and a typicality ``reference`` made from ``split``) to the card of
    the existing bundle in ``folder``, keeping everything else, and re-seal the card."""
    folder = bundle_path(folder)
    card = _read_card(folder)
    card.update(entries)
    if reference is not None:
        card[TYPICALITY_ENTRY] = write_reference(folder, reference.table, split)
    return write_card(folder, card)


def _read_card(folder: Path) -> dict:
    path = folder / CARD
    if not path.exists():
        names = bundle_names()
        raise InputError(f"no model bundle at {folder} (no {CARD}); give a bundle folder or "
                         f"one of the shipped bundles {names['shipped']} or yours "
                         f"{names['user']} (in {user_models()})")
    try:
        card = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from exc
    if card.get("format") != FORMAT or card.get("version") != VERSION:
        raise InputError(f"{path}: not a {FORMAT} version {VERSION} card (format "
                         f"{card.get('format')!r}, version {card.get('version')!r}); "
                         "retrain the bundle with this version of surveymass")
    _check_integrity(path, card)
    missing = [k for k in ("setup", "survey", "aperture", "cosmology", "features", "msigma",
                           "architecture", "weights") if k not in card]
    if missing:
        raise InputError(f"{path} lacks the entries {missing}; the bundle is incomplete")
    if card["setup"] not in SETUPS:
        raise InputError(f"{path}: setup {card['setup']!r} is not one of {SETUPS}")
    return card


def _read_weights(folder: Path, card: dict) -> dict[str, torch.Tensor]:
    path = folder / card["weights"].get("file", WEIGHTS)
    if not path.exists():
        raise InputError(f"bundle {folder} has a card but no weights file {path.name}")
    if file_sha256(path) != card["weights"].get("sha256"):
        raise InputError(f"{path} does not match the SHA-256 recorded in {CARD}: the weights "
                         "were changed or belong to another bundle; retrain or restore it")
    try:
        tensors = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise InputError(f"{path} is not a plain tensor file (refused to load it: "
                         f"{str(exc).splitlines()[0]})") from exc
    if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor)
                                                for v in tensors.values()):
        raise InputError(f"{path} must hold a dict of tensors")
    return tensors


def _check_shapes(tensors: dict, expected: dict, where: str) -> None:
    got = {k: list(v.shape) for k, v in tensors.items()}
    want = {k: list(v.shape) for k, v in expected.items()}
    if got != want:
        missing = sorted(set(want) - set(got))[:5]
        extra = sorted(set(got) - set(want))[:5]
        wrong = sorted(k for k in set(got) & set(want) if got[k] != want[k])[:5]
        raise InputError(f"{where}: the weights do not match the architecture in the card "
                         f"(missing {missing}, unexpected {extra}, wrong shape {wrong})")


def load_bundle(name_or_path: str | Path = DEFAULT_BUNDLE, device: str | torch.device = "cpu"
                ) -> Bundle:
    """Read a bundle (a folder, or a shipped name) and put its networks on ``device``."""
    folder = bundle_path(name_or_path)
    card = _read_card(folder)
    normalisation = Normalisation.from_dict(card["features"])
    try:
        architecture = dataclass_from_dict(Architecture, card["architecture"],
                                           f"{folder / CARD} architecture")
        msigma = MSigmaRelation.from_dict(card["msigma"])
        aperture = dataclass_from_dict(Aperture, card["aperture"], f"{folder / CARD} aperture")
        posterior, classifier = build_networks(architecture, card["setup"],
                                               normalisation.features)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(f"{folder / CARD}: malformed entry ({exc})") from exc
    tensors = _read_weights(folder, card)
    expected = {f"posterior.{k}": v for k, v in posterior.state_dict().items()}
    if classifier is not None:
        expected.update({f"classifier.{k}": v for k, v in classifier.state_dict().items()})
    _check_shapes(tensors, expected, str(folder))
    if {k: list(v.shape) for k, v in tensors.items()} != card["weights"].get("tensors"):
        raise InputError(f"{folder}: the card's tensor list does not match the weights file")
    posterior.load_state_dict({k[len("posterior."):]: v for k, v in tensors.items()
                               if k.startswith("posterior.")})
    if classifier is not None:
        classifier.load_state_dict({k[len("classifier."):]: v for k, v in tensors.items()
                                    if k.startswith("classifier.")})
        classifier.eval()
    posterior.eval()
    known = {"format", "version", "name", "setup", "survey", "aperture", "cosmology",
             "features", "msigma", "architecture", INTEGRITY}
    reference = (load_reference(folder, card[TYPICALITY_ENTRY])
                 if TYPICALITY_ENTRY in card else None)
    bundle = Bundle(name=card.get("name", folder.name), setup=card["setup"],
                    survey=SurveyConfig.from_dict(card["survey"], source=str(folder / CARD)),
                    aperture=aperture, cosmology=cosmology_from_dict(card["cosmology"]),
                    normalisation=normalisation, msigma=msigma, architecture=architecture,
                    posterior=posterior, classifier=classifier,
                    info={k: v for k, v in card.items() if k not in known},
                    reference=reference)
    return bundle.to(device)
