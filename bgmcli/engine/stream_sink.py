"""A network stream as a Sink (`-o URL`): the composite as low-latency H.264, in MPEG-TS for
udp, srt and tcp URLs and in FLV for rtmp, through PyAV's muxers and FFmpeg's protocols."""

from __future__ import annotations

import av

from bgmcli.engine.sink import Picture
from bgmcli.engine.sinks import Format, VideoSink
from bgmcli.engine.sources import SourceInfo
from bgmcli.errors import BgmError

MUXERS = {"udp": "mpegts", "srt": "mpegts", "tcp": "mpegts", "rtmp": "flv"}


def stream_format(info: SourceInfo) -> Format:
    """No B-frames, no look-ahead (zerolatency); a key frame every second, so that a receiver
    that joins late starts within a second."""
    gop = str(max(1, round(info.rate)))
    options = {"preset": "ultrafast", "tune": "zerolatency", "g": gop, "crf": "23"}
    return Format("stream", "libx264", False, "H.264 stream", "yuv420p", options=options)


def is_output_url(text: str) -> bool:
    return "://" in text


def muxer_for(url: str) -> str:
    scheme = url.split("://", 1)[0].lower()
    if scheme not in MUXERS:
        raise BgmError(
            f"cannot stream to {scheme}:// ({url}); output URLs: "
            + ", ".join(f"{name}:// ({muxer})" for name, muxer in MUXERS.items())
        )
    return MUXERS[scheme]


def _with_packet_size(url: str) -> str:
    """UDP datagrams of 7 TS packets (1316 bytes): they pass every network's MTU."""
    if not url.lower().startswith("udp:") or "pkt_size" in url:
        return url
    return url + ("&" if "?" in url else "?") + "pkt_size=1316"


class StreamSink(VideoSink):
    """The composite streamed to `url`; its timestamps are the run's (capture times)."""

    def __init__(self, url: str, info: SourceInfo, *, timeout: float = 10.0):
        muxer = muxer_for(url)
        # MPEG-TS: headers again with every key frame, for receivers that join late
        options = {"mpegts_flags": "resend_headers"} if muxer == "mpegts" else {}
        try:
            container = av.open(
                _with_packet_size(url), "w", format=muxer, options=options, timeout=timeout
            )
        except av.error.ProtocolNotFoundError:
            raise BgmError(f"this PyAV/FFmpeg build cannot write {url.split(':')[0]}://") from None
        except (av.error.FFmpegError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise BgmError(f"cannot open output stream {url}: {reason}") from None
        super().__init__(Picture("com", 3), stream_format(info), info, None, container=container)
        self.url = url
