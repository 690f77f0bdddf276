"""enms: model performance tracking for industrial energy management."""

__version__ = "0.1.0"
