"""MattingModel behaviours: output shapes, odd sizes, refine modes, the ASPP ablation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bgmcli.loading import build_model
from bgmcli.model.config import ModelConfig
from bgmcli.model.settings import InferenceSettings
from tests.conftest import calibrate_random_weights, make_frame_pair


def model_with(refine: str = "error", k: int = 50, **arch) -> torch.nn.Module:
    """The same calibrated random weights (per architecture) under any refine setting."""
    torch.manual_seed(0)
    settings = InferenceSettings(backbone_scale=0.25, mode="full")
    calibrated = build_model(ModelConfig(**arch), settings)
    calibrate_random_weights(calibrated, *make_frame_pair(64, 96))
    settings = InferenceSettings(backbone_scale=0.25, mode=refine, k=k)
    model = build_model(ModelConfig(**arch), settings)
    model.load_state_dict(calibrated.state_dict())
    return model.eval()


@pytest.mark.slow
@torch.no_grad()
@pytest.mark.parametrize("height,width", [(64, 96), (61, 83), (66, 90)])
def test_output_sizes_match_input_even_when_not_multiples_of_4(height, width):
    src, bgr = make_frame_pair(height, width)
    out = model_with()(src, bgr)
    assert out.pha.shape == (1, 1, height, width)
    assert out.fgr.shape == (1, 3, height, width)
    assert out.ref_sm.shape[2:] == (-(-height // 4), -(-width // 4))
    for tensor in (out.pha, out.fgr, out.pha_sm, out.fgr_sm, out.err_sm):
        assert tensor.min() >= 0 and tensor.max() <= 1


@pytest.mark.slow
@torch.no_grad()
def test_none_is_bilinear_upsampling_of_the_coarse_output():
    src, bgr = make_frame_pair(64, 96)
    out = model_with("none")(src, bgr)
    expected = F.interpolate(out.pha_sm, (64, 96), mode="bilinear", align_corners=False)
    assert torch.allclose(out.pha, expected, atol=1e-6)
    assert out.ref_sm.sum() == 0


@pytest.mark.slow
@torch.no_grad()
def test_refinement_changes_exactly_the_selected_patches():
    src, bgr = make_frame_pair(64, 96)
    coarse = model_with("none")(src, bgr)
    refined = model_with("error", k=20)(src, bgr)
    assert int(refined.ref_sm.sum()) == 20
    changed = (coarse.pha - refined.pha).abs().gt(0)
    changed_patches = F.max_pool2d(changed.float(), 4).bool()
    assert not (changed_patches & ~refined.ref_sm.bool()).any()


@pytest.mark.slow
@torch.no_grad()
def test_full_refines_everywhere_and_k_bounds_the_patch_count():
    src, bgr = make_frame_pair(64, 96)
    assert model_with("full")(src, bgr).ref_sm.all()
    assert int(model_with("uniform", k=10_000)(src, bgr).ref_sm.sum()) == 16 * 24


@pytest.mark.slow
def test_aspp_ablation_replaces_aspp_by_a_1x1_projection():
    model = build_model(ModelConfig(aspp=False))
    convs = [m for m in model.aspp.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 1 and convs[0].kernel_size == (1, 1) and convs[0].out_channels == 256
    src, bgr = make_frame_pair(64, 96)
    with torch.no_grad():
        assert model.eval()(src, bgr).pha.shape == (1, 1, 64, 96)


@pytest.mark.slow
@pytest.mark.parametrize("kernel_size", [1, 3])
def test_kernel_sizes_agree_between_full_and_patch_refinement(kernel_size):
    # Refining every location patch-wise must give what the full-frame refiner computes.
    src, bgr = make_frame_pair(64, 96)
    with torch.no_grad():
        full = model_with("full", kernel_size=kernel_size)(src, bgr)
        patches = model_with("uniform", k=10_000, kernel_size=kernel_size)(src, bgr)
    assert (full.pha - patches.pha).abs().max() < 1e-5


def test_clamp_unit_clamps_values_but_passes_gradients_of_saturated_outputs():
    from bgmcli.model.matting import clamp_unit

    raw = torch.tensor([-2.0, 0.3, 3.5], requires_grad=True)
    out = clamp_unit(raw)
    assert out.tolist() == pytest.approx([0.0, 0.3, 1.0])
    # truth 0.3 everywhere: the saturated ends must still be pulled back towards it
    (out - 0.3).abs().sum().backward()
    assert raw.grad.tolist() == [-1.0, 0.0, 1.0]
    assert torch.equal(clamp_unit(torch.tensor([-2.0, 3.5])), torch.tensor([0.0, 1.0]))


@pytest.mark.slow  # builds every backbone
def test_every_registered_backbone_is_recognised_by_its_signature_alone():
    """Official files carry no config: their backbone is told by the registry's signatures."""
    from bgmcli.model.backbones import BACKBONES
    from bgmcli.model.checkpoint import infer_architecture

    for name, entry in BACKBONES.items():
        keys = {f"backbone.{key}": None for key in entry.build().state_dict()}
        assert infer_architecture(keys)["backbone"] == name
        others = [other for other, b in BACKBONES.items() if b.matches(keys, "backbone.")]
        assert others == [name]
