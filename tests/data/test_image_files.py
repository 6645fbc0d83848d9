"""Dataset images under faults: empty, damaged, truncated or oversized (a decompression bomb)
files are one line naming the file, also when a DataLoader worker process meets them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bgmcli.data.image_files import read_image_array
from bgmcli.errors import BgmError
from tests.cli.faults import bad_png, refused
from tests.conftest import single_thread

TRAIN = ["train", "--preset", "smoke", "--stage", "base", "--steps", "1", "--device", "cpu",
         "--quiet", "--data", "folders"]  # fmt: skip


def _rgba(path, size=(40, 40)):
    pixels = np.random.default_rng(0).integers(0, 255, (*size, 4), dtype=np.uint8)
    Image.fromarray(pixels, "RGBA").save(path)
    return path


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated", "bomb"])
def test_a_bad_image_is_one_line_naming_it(kind, tmp_path):
    good = _rgba(tmp_path / "good.png")
    path = bad_png(tmp_path / "bad.png", kind, good)
    with pytest.raises(BgmError, match="bad.png") as info:
        read_image_array(path, "RGBA")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kind", ["empty", "garbage", "bomb"])
def test_train_on_a_folder_with_a_bad_png_is_one_line(kind, tmp_path, capsys):
    root = tmp_path / "photos"
    root.mkdir()
    _rgba(root / "a.png")
    bad_png(root / "b.png", kind)
    with single_thread():
        line = refused(capsys, *TRAIN, "--data-root", root, "--out", tmp_path / "o")
    assert "b.png" in line
    assert not (tmp_path / "o" / "last.pt").exists()


def test_an_error_in_a_data_loading_worker_is_one_line(tmp_path, capsys):
    root = tmp_path / "photos"
    root.mkdir()
    good = _rgba(root / "a.png", (256, 256))
    bad_png(root / "b.png", "truncated", good)  # its header reads: only decoding fails
    (root / "a.png").unlink()
    with single_thread():
        line = refused(capsys, *TRAIN, "--workers", "1", "--data-root", root, "--out",
                       tmp_path / "o")  # fmt: skip
    assert "b.png" in line and "Traceback" not in line
