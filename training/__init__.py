"""Training, evaluation and benchmarking of the moderation models (public-data adapters in ``sources``)."""
