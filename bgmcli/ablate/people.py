"""The people evaluation set: photographs of people (scikit-image's `astronaut`, and
`grace_hopper.bmp` and `squat.bmp` from Coral's test data) cut out with a person segmenter,
composited over other photographs at HD, each with a plate as a hand-held camera gives it
(shifted, zoomed, turned, noisy). No true alpha exists at the outline, so the set scores only
where the answer is certain: the person's interior (mask eroded) must be opaque, the far
background (mask dilated, inverted) transparent.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from bgmcli.ablate.evalsets import EVAL_SEED, EvalSet
from bgmcli.data import augment
from bgmcli.errors import BgmError

PEOPLE = ("astronaut", "grace_hopper.bmp", "squat.bmp")
BACKGROUNDS = ("motorcycle_left", "cat.bmp", "bird_segmentation.bmp", "dog_segmentation.bmp")
SEGMENTER = "deeplabv3_mnv2_pascal_quant.tflite"  # Pascal VOC; class 15 is person
PERSON_CLASS = 15
# The hand-held portraits were scored at 1080p with the mask eroded by 24 px (interior)
# and dilated by 48 px (far background); the margins scale with the frame's height.
INTERIOR_MARGIN, FAR_MARGIN = 24 / 1080, 48 / 1080
PERSON_HEIGHT = 0.92  # of the frame: a portrait fills it


def is_people_folder(root: Path) -> bool:
    """A folder holding the photographs and the segmenter (../shared/pretrained)."""
    return all((root / name).is_file() for name in (*PEOPLE[1:], SEGMENTER))


def people_set(root: Path, width: int, height: int, misalign: float = 1.0) -> EvalSet:
    """Every person over every background: frames are src, bgr (a hand-held plate), true_pha,
    true_fgr, mask (None), interior and far ((H, W) bool); `misalign` scales the plate's motion."""
    pairs = [(p, b) for p in PEOPLE for b in BACKGROUNDS]

    def make(i: int) -> dict:
        person, backdrop = pairs[i]
        rng = np.random.default_rng(np.random.SeedSequence([EVAL_SEED, 21, i]))
        frame = _composite(root, person, backdrop, (height, width), rng, misalign)
        return {**frame, "id": f"{Path(person).stem}-over-{Path(backdrop).stem}"}

    description = f"{len(PEOPLE)} people over {len(BACKGROUNDS)} photographs, hand-held plates"
    return EvalSet(f"people-{width}x{height}", description, len(pairs), make)


def _composite(root, person, backdrop, hw, rng, misalign) -> dict:
    h, w = hw
    image, alpha = cutout(root, person)
    fgr = torch.from_numpy(image.copy()).permute(2, 0, 1).float() / 255
    pha = torch.from_numpy(alpha)[None].float()
    scale = PERSON_HEIGHT * h / alpha.shape[0]
    centre_x = w * rng.uniform(0.3, 0.7)
    m = augment.affine_matrix(
        (centre_x, h - PERSON_HEIGHT * h / 2), ((alpha.shape[1] - 1) / 2, (alpha.shape[0] - 1) / 2),
        scale=scale, flip=bool(rng.random() < 0.5),
    )  # fmt: skip
    both = augment.warp(torch.cat([fgr, pha]), m, hw)
    fgr, pha = both[:3], both[3:].clamp(0, 1)
    live = _photo(root, backdrop, hw)
    src = augment.add_noise((fgr * pha + live * (1 - pha)).clamp(0, 1), rng, 0.01)
    plate = hand_held_plate(live, rng, misalign)
    solid = pha[0].numpy() > 0.5
    return {
        "src": src, "bgr": plate, "true_pha": pha, "true_fgr": fgr, "mask": None,
        "interior": ndimage.binary_erosion(solid, iterations=max(1, round(INTERIOR_MARGIN * h))),
        "far": ~ndimage.binary_dilation(solid, iterations=max(1, round(FAR_MARGIN * h))),
    }  # fmt: skip


def hand_held_plate(live: torch.Tensor, rng: np.random.Generator, misalign: float) -> torch.Tensor:
    """The background as a second hand-held shot sees it: a few pixels of shift, about 1% of
    zoom, a fraction of a degree of roll, another exposure and sensor noise."""
    h, w = live.shape[-2:]
    c = ((w - 1) / 2, (h - 1) / 2)
    sign = rng.choice([-1.0, 1.0], size=2)
    m = augment.affine_matrix(
        c, c,
        rot_deg=rng.uniform(-0.3, 0.3) * misalign,
        scale=1 + rng.uniform(0.005, 0.012) * rng.choice([-1.0, 1.0]) * misalign,
        shift=tuple(float(s * rng.uniform(2, 6) * misalign * h / 1080) for s in sign),
    )  # fmt: skip
    plate = augment.warp(live, m, (h, w), padding="reflection")
    plate = plate * float(rng.uniform(0.96, 1.04))
    return augment.add_noise(plate.clamp(0, 1), rng, rng.uniform(0.005, 0.015))


def cutout(root: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 image, alpha float32 in [0, 1]) of a person: the segmenter's person class,
    its largest region with holes filled, the edge softened by a pixel."""
    image = _read_rgb(root, name)
    mask = person_mask(image, root / SEGMENTER)
    labels, count = ndimage.label(mask)
    if count == 0:
        raise BgmError(f"the segmenter finds no person in {name}")
    largest = 1 + int(np.argmax(ndimage.sum(mask, labels, range(1, count + 1))))
    solid = ndimage.binary_fill_holes(labels == largest)
    alpha = ndimage.gaussian_filter(solid.astype(np.float32), 1.0)
    return image, alpha


def person_mask(image: np.ndarray, model: Path) -> np.ndarray:
    """Where DeepLabV3 (Pascal VOC, 513x513) sees a person, at the image's size. The image is
    letterboxed into the square input, not stretched: people squashed sideways are missed."""
    from skimage.transform import resize

    interpreter = _interpreter(str(model))
    detail = interpreter.get_input_details()[0]
    side = int(detail["shape"][1])
    h, w = image.shape[:2]
    fit_h, fit_w = round(h * side / max(h, w)), round(w * side / max(h, w))
    square = np.full((side, side, 3), 128, np.uint8)
    small = resize(image, (fit_h, fit_w), order=1, preserve_range=True, anti_aliasing=True)
    square[:fit_h, :fit_w] = small.round().astype(np.uint8)
    interpreter.set_tensor(detail["index"], square[None])
    interpreter.invoke()
    classes = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
    person = (classes[:fit_h, :fit_w] == PERSON_CLASS).astype(np.float32)
    return resize(person, (h, w), order=1) > 0.5


@lru_cache(maxsize=1)
def _interpreter(path: str):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise BgmError(
            "the people set segments its photographs with a TFLite model: "
            "pip install ai-edge-litert (in the test extra)"
        ) from None
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    return interpreter


def _read_rgb(root: Path, name: str) -> np.ndarray:
    if "." not in name:  # a scikit-image photograph
        import skimage.data

        loader = getattr(skimage.data, name, None)
        if loader is None:  # motorcycle_left ships as a file of the data folder
            from skimage.io import imread

            return np.asarray(imread(Path(skimage.data.__file__).parent / f"{name}.png"))[..., :3]
        return np.asarray(loader())[..., :3]
    from PIL import Image

    with Image.open(root / name) as img:
        return np.asarray(img.convert("RGB"))


def _photo(root: Path, name: str, hw: tuple[int, int]) -> torch.Tensor:
    """A background photograph cropped to the frame's aspect and scaled to it."""
    img = torch.from_numpy(_read_rgb(root, name).copy()).permute(2, 0, 1).float() / 255
    h, w = hw
    ih, iw = img.shape[-2:]
    if iw / ih > w / h:
        cw = round(ih * w / h)
        img = img[:, :, (iw - cw) // 2 : (iw - cw) // 2 + cw]
    else:
        ch = round(iw * h / w)
        img = img[:, (ih - ch) // 2 : (ih - ch) // 2 + ch]
    return torch.nn.functional.interpolate(
        img[None], size=hw, mode="bicubic", align_corners=False, antialias=True
    )[0].clamp(0, 1)
