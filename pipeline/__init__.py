"""Rerun the reward-models-vs-metrics cross-citation study, and measure scorer accuracy on preference pairs."""

__version__ = "0.1.0"

OTHER = "other"
"""The label of papers that belong to none of the study's fields (the fields themselves come from the config)."""
