"""Fixtures of the CLI tests: the engine tests' generated media, for `bgm matte`."""

import pytest

from tests.engine.media import media  # noqa: F401 - a pytest fixture


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_thread):
    """Tiny frames: every CLI test runs on one torch thread."""
