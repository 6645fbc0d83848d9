"""Precise BatchNorm statistics: a plain average over the given batches, whatever the running
averages held before, of the layers the stage trains only."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bgmcli.loading import build_model
from bgmcli.model.config import ModelConfig
from bgmcli.model.settings import InferenceSettings
from bgmcli.train.recalibrate import calibration_batches, recalibrate_batchnorm
from bgmcli.train.stagenet import StageNet

pytestmark = pytest.mark.usefixtures("one_thread")


def _batches(count: int, size: int = 64) -> list[dict]:
    gen = torch.Generator().manual_seed(0)
    return [{"src": torch.rand(2, 3, size, size, generator=gen),
             "bgr": torch.rand(2, 3, size, size, generator=gen)} for _ in range(count)]  # fmt: skip


def _stats(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items() if "running" in k}


def test_statistics_are_the_plain_mean_over_the_batches_whatever_came_before():
    torch.manual_seed(0)
    net = StageNet(build_model(ModelConfig(backbone="mobilenetv2")), "base")
    first_bn = next(m for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    captured = []
    hook = first_bn.register_forward_hook(lambda m, i, o: captured.append(i[0].mean((0, 2, 3))))
    recalibrate_batchnorm(net, iter(_batches(3)), torch.device("cpu"))
    hook.remove()
    assert torch.allclose(first_bn.running_mean, torch.stack(captured).mean(0), atol=1e-6)
    assert first_bn.momentum == 0.1  # restored for training
    once = _stats(net)
    with torch.no_grad():  # disturb the running averages, then recalibrate again
        for _ in range(2):
            net.outputs(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64))
    recalibrate_batchnorm(net, iter(_batches(3)), torch.device("cpu"))
    assert all(torch.equal(v, once[k]) for k, v in _stats(net).items())


def test_stage_refine_recalibrates_the_refiner_and_keeps_the_base_networks_statistics():
    torch.manual_seed(0)
    model = build_model(ModelConfig(backbone="mobilenetv2"))
    base_before = _stats(model.backbone)
    refiner_before = _stats(model.refiner)
    net = StageNet(model, "refine", InferenceSettings(backbone_scale=0.25, k=64))
    count = recalibrate_batchnorm(net, iter(_batches(2, 128)), "cpu")
    assert count == sum(isinstance(m, nn.BatchNorm2d) for m in model.refiner.modules()) > 0
    assert all(torch.equal(v, base_before[k]) for k, v in _stats(model.backbone).items())
    assert any(not torch.equal(v, refiner_before[k]) for k, v in _stats(model.refiner).items())


def test_calibration_batches_are_seeded_cropped_and_apart_from_training_draws():
    dataset = [{"src": torch.full((3, 16, 16), float(i)), "bgr": torch.zeros(3, 16, 16),
                "true_pha": torch.zeros(1, 16, 16)} for i in range(50)]  # fmt: skip
    draw = list(calibration_batches(dataset, seed=3, stage="base", count=4, batch=2, crop=8))
    again = list(calibration_batches(dataset, seed=3, stage="base", count=4, batch=2, crop=8))
    assert (
        len(draw) == 4 and draw[0]["src"].shape == (2, 3, 8, 8) and set(draw[0]) == {"src", "bgr"}
    )
    assert all(torch.equal(a["src"], b["src"]) for a, b in zip(draw, again, strict=True))
    other = list(calibration_batches(dataset, seed=4, stage="base", count=4, batch=2, crop=8))
    assert not all(torch.equal(a["src"], b["src"]) for a, b in zip(draw, other, strict=True))
