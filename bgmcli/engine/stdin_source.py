"""Standard input (`-`) as a Source: a stream piped in (MPEG-TS, Matroska, NUT, y4m: formats
that need no seeking; not MP4). Not live unless --live: every frame is matted, in order."""

from __future__ import annotations

from bgmcli.engine.stream_source import ContainerSource, open_live_container


class StdinSource(ContainerSource):
    def __init__(self, *, timeout: float = 10.0, duration=None):
        label = "standard input"
        container = open_live_container("pipe:0", label=label, timeout=timeout)
        super().__init__(container, name="stdin", label=label, timeout=timeout, duration=duration)
