"""Hypothesis profiles: `ci` (default), `dev`, `thorough`; pick with HYPOTHESIS_PROFILE."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from tiny_corpus import write_corpus

settings.register_profile(
    "ci", max_examples=25, derandomize=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same tinytorch seed, so failures reproduce."""
    import tinytorch

    tinytorch.manual_seed(0)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # fail loudly
        yield


@pytest.fixture
def corpus(tmp_path):
    """A tiny corpus file (tests/tiny_corpus.py)."""
    return write_corpus(tmp_path / "pairs.tsv")
