"""Fixtures of the engine tests: generated media and a random-weight checkpoint."""

from tests.engine.media import media, one_torch_thread  # noqa: F401 - pytest fixtures
