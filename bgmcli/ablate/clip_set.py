"""The moving-clip evaluation set (`--eval-data clip`): frames of two clips with true alpha
(bgmcli.data.moving_clip: a synthetic subject with strands and a veil walking over a photograph),
one from a still camera and one hand-held, in order, so that temporal errors (dtSSD) and the
temporal filter can be measured. Each frame's plate is the captured plate (its own sensor noise)
registered to the frame with the true camera motion: alignment as good as it gets."""

from __future__ import annotations

from bgmcli.ablate.evalsets import EVAL_SEED, EvalSet
from bgmcli.data import augment
from bgmcli.data.moving_clip import CAMERAS, ClipSpec, moving_clip
from bgmcli.errors import BgmError

DEFAULT_CLIP_FRAMES = 8  # per clip


def clip_set(width: int, height: int, frames: int | None) -> EvalSet:
    """`frames` per clip (default 8), the still camera's clip first; frames carry `sequence`
    (the clip's name) and are made a clip at a time."""
    frames = frames or DEFAULT_CLIP_FRAMES
    if frames < 2:
        raise BgmError(f"--eval-data clip needs at least 2 frames a clip (--frames), got {frames}")
    made: dict[int, list[dict]] = {}

    def make(i: int) -> dict:
        which, t = divmod(i, frames)
        if which not in made:
            made.clear()  # one clip's frames at a time: the evaluation goes in order
            made[which] = _frames(width, height, frames, CAMERAS[which])
        return made[which][t]

    name = f"clip-{width}x{height}" if (width, height) != (1920, 1080) else "clip-hd"
    description = (f"2 moving-subject clips of {frames} frames (still and hand-held camera) at "
                   f"{width}x{height}")  # fmt: skip
    return EvalSet(name, description, frames * len(CAMERAS), make)


def _frames(width: int, height: int, frames: int, camera: str) -> list[dict]:
    spec = ClipSpec(width=width, height=height, frames=frames, camera=camera,
                    seed=EVAL_SEED + CAMERAS.index(camera))  # fmt: skip
    clip = moving_clip(spec)
    out = []
    for t in range(frames):
        plate = clip.captured_plate
        if camera != "static":
            plate = augment.warp(plate, clip.poses[t], (height, width), padding="reflection")
        out.append({"src": clip.src[t], "bgr": plate, "true_pha": clip.pha[t],
                    "true_fgr": clip.fgr[t], "mask": None, "id": f"{camera}-{t:03d}",
                    "sequence": camera})  # fmt: skip
    return out
