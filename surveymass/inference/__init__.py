"""Inference on real clusters (``infer``) and comparison with published masses (``compare``)."""
