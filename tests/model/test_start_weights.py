"""ImageNet weights a user has on disk initialise the encoder (--backbone-weights)."""

from __future__ import annotations

import pytest
import torch
from torchvision import models

from bgmcli.errors import BgmError
from bgmcli.model.backbones import build_backbone, load_imagenet_weights


@pytest.mark.slow
def test_torchvision_weights_load_with_the_rgb_kernel_on_source_and_minus_it_on_plate(tmp_path):
    reference = models.mobilenet_v2(weights=None)
    path = tmp_path / "mobilenet_v2_imagenet.pth"
    torch.save(reference.state_dict(), path)
    encoder = build_backbone("mobilenetv2")
    loaded = load_imagenet_weights(encoder, path)
    assert loaded > 100
    first = encoder.features[0][0].weight
    assert torch.equal(first[:, :3], reference.features[0][0].weight)
    assert torch.equal(first[:, 3:], -first[:, :3])  # the filters see src - bgr
    depthwise = encoder.features[5].conv[1][0].weight
    assert torch.equal(depthwise, reference.features[5].conv[1][0].weight)


def test_weights_of_another_network_are_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"head.weight": torch.zeros(3)}, path)
    with pytest.raises(BgmError, match="no tensor matches"):
        load_imagenet_weights(build_backbone("resnet50"), path)
