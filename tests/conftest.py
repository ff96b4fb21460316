"""Shared fixtures: the shipped model is loaded once per session (it is read-only)."""

from pathlib import Path

import pytest

from moderation.scorer import Scorer, default_model_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    if not (default_model_dir() / "manifest.json").is_file():
        pytest.fail("the shipped default model is missing: run `make train`")
    return Scorer.load()
