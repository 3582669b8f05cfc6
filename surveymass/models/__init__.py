"""The models: features, M–sigma baseline, Deep Sets interloper classifier, Deep Sets +
spline-flow mass posterior, bundles, training, evaluation and batched inference.

Entry points: :func:`surveymass.models.pipeline.train_bundle`,
:func:`surveymass.models.bundle.load_bundle`, :func:`surveymass.models.predict.predict`,
:func:`surveymass.models.evaluate.evaluate_bundle` (see docs/models.md).
"""
