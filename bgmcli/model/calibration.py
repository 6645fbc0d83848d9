"""Realistic random weights for benchmarks and tests: statistics from one pass over real input.

A randomly initialised network has BatchNorm running statistics (0, 1) that fit nothing, and an
output head whose values reach the thousands, so its activations explode or die. Calibrating
both on actual inputs makes timings and numerical comparisons representative of a trained model.
Works on our MattingModel and on the reference implementation alike (same module names).
"""

from __future__ import annotations

import torch
from torch import nn

# Channels that are (almost) constant get variance ~0 and hence a gain of 1/sqrt(eps) ~ 300,
# which no trained network has (weight decay drives such channels' gain to 0); floor it.
MIN_RUNNING_VAR = 1e-2


@torch.no_grad()
def calibrate_random_weights(model: nn.Module, src: torch.Tensor, bgr: torch.Tensor) -> None:
    """BatchNorm statistics from `model(src, bgr)`, then the output heads of the base network and
    of the refiner scaled so that each output channel has unit spread on that input."""
    calibrate_batchnorm(model, src, bgr)
    for head in (model.decoder.conv4, model.refiner.conv4):  # the refiner's input depends on
        _normalise_output(model, head, src, bgr)  # the decoder's, hence in this order


def _normalise_output(model: nn.Module, head: nn.Conv2d, src, bgr) -> None:
    outputs = []
    hook = head.register_forward_hook(lambda module, inputs, out: outputs.append(out))
    was_training = model.training
    try:
        model.eval()(src, bgr)
    finally:
        hook.remove()
        model.train(was_training)
    if not outputs:  # e.g. refine mode "none": the refiner never ran
        return
    spread = outputs[0].std(dim=(0, 2, 3)).clamp(min=1e-6)
    head.weight.div_(spread[:, None, None, None])
    if head.bias is not None:
        head.bias.div_(spread)


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, src: torch.Tensor, bgr: torch.Tensor) -> None:
    """Set every BatchNorm's running statistics to those of `model(src, bgr)` (batch repeated to
    2, since ASPP's pooled branch needs more than one value per channel in train mode)."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average: one pass sets the statistics exactly
    was_training = model.training
    model.train()
    model(src.repeat(2, 1, 1, 1), bgr.repeat(2, 1, 1, 1))
    model.train(was_training)
    for norm in norms:
        norm.running_var.clamp_(min=MIN_RUNNING_VAR)
        norm.momentum = 0.1
