"""foley_export: export HunyuanVideo-Foley-style models to foley4j bundles (format v2), tiny
stand-in models for tests, and a Python reference of the models' own inference semantics."""

__version__ = "0.1.0"
