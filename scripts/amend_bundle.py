"""Give an existing bundle the pieces later versions of `surveymass train` make with it:
the typicality reference of the misspecification check (its own predictions on the
held-out val split of its training set) and, optionally, its kinematics-only companion.
The networks and every other card entry stay as they are; the card is re-sealed.

    python scripts/amend_bundle.py BUNDLE TRAINING_SET [--kinematic NAME]

Used once for the shipped sdss_legacy (docs/models.md).
"""

from __future__ import annotations

import argparse

from surveymass.models.bundle import amend_bundle, load_bundle
from surveymass.models.datasets import load_split
from surveymass.models.evaluate import check_training_set
from surveymass.models.pipeline import typicality_reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("training_set")
    parser.add_argument("--kinematic", help="name of the kinematics-only companion bundle")
    args = parser.parse_args()
    bundle = load_bundle(args.bundle)
    check_training_set(bundle, args.training_set)
    if args.kinematic:
        load_bundle(args.kinematic)  # it must exist and load
    reference = typicality_reference(bundle, load_split(args.training_set, "val"))
    entries = {"kinematic_companion": args.kinematic} if args.kinematic else {}
    print(amend_bundle(args.bundle, entries, reference, split="val"))


if __name__ == "__main__":
    main()
