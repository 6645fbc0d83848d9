"""Fixtures of the engine tests: generated media and a random-weight checkpoint."""

import pytest

from tests.engine.media import media  # noqa: F401 - a pytest fixture


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_thread):
    """Tiny frames: every engine test runs on one torch thread."""
