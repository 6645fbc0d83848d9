"""BatchNorm statistics recomputed at the end of a stage ("precise BN"): while training, the
running averages weigh the last ~10 batches most (momentum 0.1), and with batches of four very
different samples they are noise. An average over many batches with the final weights fixes
that (the measured gain: docs/training.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from bgmcli.train.batches import crop_with, step_generator
from bgmcli.train.stagenet import StageNet

CALIBRATION_PURPOSE = 2  # step_generator purposes: 0 indices, 1 crops, 2 calibration


@torch.no_grad()
def recalibrate_batchnorm(net: StageNet, batches: Iterator[dict], device: torch.device) -> int:
    """Replaces the running statistics of every BatchNorm the stage trains (in stage refine not
    the base network's, which keep stage base's) with their plain average over `batches`.
    Weights do not change. Dropout is off, as at inference (ASPP's drops before the decoder's
    BatchNorm), which also makes the result a function of the weights and batches alone.
    Returns the number of layers recalibrated."""
    net.train()
    for module in net.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd):
            module.eval()
    layers = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    layers = [m for m in layers if m.training]
    momenta = [m.momentum for m in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # a cumulative average: every batch counts the same
    try:
        for batch in batches:
            net.outputs(batch["src"].to(device), batch["bgr"].to(device))
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
        net.train()  # dropout back on
    return len(layers)


def calibration_batches(dataset, *, seed: int, stage: str, count: int, batch: int, crop: int):
    """`count` batches drawn like the stage's training batches, from generators of their own:
    the same on every process and on every resume, and apart from the training draws."""
    for index in range(count):
        gen = step_generator(seed, stage, index, purpose=CALIBRATION_PURPOSE)
        items = [dataset[i] for i in torch.randint(len(dataset), (batch,), generator=gen).tolist()]
        stacked = {k: torch.stack([item[k] for item in items]) for k in ("src", "bgr")}
        yield crop_with(stacked, crop, gen) if crop else stacked
