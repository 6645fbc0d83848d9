"""Training runs on tiny data: validation loss falls, resume is exact, checkpoints load."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from bgmcli.config import to_dict
from bgmcli.errors import BgmError
from bgmcli.loading import build_model, load_model
from bgmcli.train.config import build_train_config, config_from_checkpoint
from bgmcli.train.loop import train
from bgmcli.train.state import seed_everything
from tests.train_fixtures import dataset_fn

pytestmark = pytest.mark.usefixtures("one_thread")


def _smoke(**overrides):
    return build_train_config("smoke", overrides=overrides)


@pytest.mark.slow
def test_validation_loss_falls_on_a_seeded_smoke_run(tmp_path):
    config = _smoke(
        stage="base", base={"steps": 30, "batch": 8, "lr_backbone": 5e-4},
        data_length=512, val_every=30, val_samples=4,
    )  # fmt: skip
    result = train(config, tmp_path, device="cpu", dataset_fn=dataset_fn())
    first, last = result.history[0], result.history[-1]
    assert (first["step"], last["step"]) == (0, 30)
    assert last["val_loss"] < 0.8 * first["val_loss"]
    assert last["mad"] < first["mad"]
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 30]
    assert {"val_loss", "mad", "grad", "fgr_l1", "train_loss"} <= set(rows[-1])


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["base", "refine"])
def test_resume_after_3_steps_gives_the_weights_of_6_straight(tmp_path, stage):
    def config(steps):
        return _smoke(
            stage=stage, **{stage: {"steps": steps, "crop": 48 if stage == "refine" else 0}}
        )

    train(config(6), tmp_path / "straight", device="cpu", dataset_fn=dataset_fn())
    train(config(3), tmp_path / "resumed", device="cpu", dataset_fn=dataset_fn())
    result = train(
        config(6), tmp_path / "resumed", device="cpu", resume=True, dataset_fn=dataset_fn()
    )
    assert result.steps == 6
    straight = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)
    resumed = torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)
    assert straight["step"] == resumed["step"] == 6
    for key, value in straight["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
    assert torch.equal(
        straight["optimizer"]["state"][0]["exp_avg"], resumed["optimizer"]["state"][0]["exp_avg"]
    )


class _Interrupted(Exception):
    pass


def _stop_after(steps):
    def progress(event):
        if event.kind == "step" and event.step > steps:
            raise _Interrupted

    return progress


@pytest.mark.slow
def test_an_interrupted_cosine_schedule_resumes_exactly(tmp_path):
    config = _smoke(stage="base", base={"steps": 6, "schedule": "cosine"}, val_every=3)
    train(config, tmp_path / "straight", device="cpu", dataset_fn=dataset_fn())
    with pytest.raises(_Interrupted):  # last.pt holds step 3; step 4 is lost with the crash
        train(config, tmp_path / "resumed", device="cpu", progress=_stop_after(3),
              dataset_fn=dataset_fn())  # fmt: skip
    train(config, tmp_path / "resumed", device="cpu", resume=True, dataset_fn=dataset_fn())
    straight = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)
    resumed = torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)
    for key, value in straight["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
    final_lrs = [g["lr"] for g in resumed["optimizer"]["param_groups"]]
    assert final_lrs == pytest.approx([r * 0.01 for r in (1e-4, 5e-4, 5e-4)], rel=1e-6)


def test_the_cosine_schedule_falls_from_the_start_rate_to_lr_final():
    stage = _smoke(base={"steps": 11, "schedule": "cosine", "lr_final": 0.1}).base
    factors = [stage.lr_factor(i) for i in range(11)]
    assert factors[0] == 1.0 and factors[-1] == pytest.approx(0.1)
    assert factors[5] == pytest.approx(0.55)  # halfway: the mean of start and end
    assert all(a > b for a, b in zip(factors[:-1], factors[1:], strict=True))
    assert _smoke().base.lr_factor(7) == 1.0  # constant, the default
    with pytest.raises(BgmError, match="unknown schedule"):
        _smoke(base={"schedule": "linear"})
    with pytest.raises(BgmError, match="lr_final must be"):
        _smoke(base={"lr_final": 2.0})


def test_synthetic_data_fields_are_checked():
    assert _smoke(synthetic_shapes="mixed", plate_misalign=1.9).plate_misalign == 1.9
    with pytest.raises(
        BgmError, match="unknown synthetic_shapes 'stars'; known: blobs, mixed, tangled"
    ):
        _smoke(synthetic_shapes="stars")
    with pytest.raises(BgmError, match="plate_misalign must be between 0 and 10"):
        _smoke(plate_misalign=-1)
    with pytest.raises(BgmError, match="foreground_shading must be between 0 and 1"):
        _smoke(foreground_shading=1.5)
    with pytest.raises(BgmError, match="synthetic_skin_share must be between 0 and 1"):
        _smoke(synthetic_skin_share=-0.1)
    recipe = _smoke(synthetic_shapes="mixed", plate_misalign_share=0.3, foreground_shading=0.5,
                    synthetic_veil_share=0.1, synthetic_skin_share=0.2).recipe()  # fmt: skip
    assert (recipe.shapes, recipe.misalign_share, recipe.shading) == ("mixed", 0.3, 0.5)
    assert (recipe.veil_share, recipe.skin_share) == (0.1, 0.2)


@pytest.mark.slow
def test_batchnorm_recalibration_ends_the_stage_and_resumes_exactly(tmp_path):
    config = _smoke(stage="base", base={"steps": 6, "bn_batches": 3}, val_every=3)
    straight = train(config, tmp_path / "straight", device="cpu", dataset_fn=dataset_fn())
    assert [r.get("note") for r in straight.history] == [None, None, None, "bn_recalibrated"]
    assert straight.history[-1]["step"] == straight.history[-2]["step"] == 6
    with pytest.raises(_Interrupted):
        train(config, tmp_path / "resumed", device="cpu", progress=_stop_after(3),
              dataset_fn=dataset_fn())  # fmt: skip
    train(config, tmp_path / "resumed", device="cpu", resume=True, dataset_fn=dataset_fn())
    a = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(value, b[key]) for key, value in a.items())
    without = train(_smoke(stage="base", base={"steps": 6}, val_every=3), tmp_path / "plain",
                    device="cpu", dataset_fn=dataset_fn())  # fmt: skip
    c = torch.load(tmp_path / "plain" / "last.pt", weights_only=True)["model"]
    means = [k for k in a if k.endswith("running_mean")]
    assert means and not all(torch.equal(a[k], c[k]) for k in means)
    weights = [k for k in a if k.endswith("weight")]
    assert all(torch.equal(a[k], c[k]) for k in weights)  # statistics only: weights unchanged
    assert without.history[-1]["mad"] != straight.history[-1]["mad"]


@pytest.mark.slow  # trains both stages
def test_both_stages_write_checkpoints_that_load_for_inference(tmp_path):
    config = _smoke(ckpt_every=4)
    result = train(config, tmp_path, device="cpu", dataset_fn=dataset_fn())
    assert result.steps == 8
    assert {p.name for p in tmp_path.glob("*.pt")} == {
        "last.pt",
        "step-4.pt",
        "step-8.pt",
        "model.pt",
    }
    assert [(r["stage"], r["step"]) for r in result.history] == [
        ("base", 0), ("base", 4), ("refine", 4), ("refine", 8)
    ]  # fmt: skip
    src = torch.rand(1, 3, 64, 64)
    for name in ("last.pt", "model.pt"):
        model = load_model(tmp_path / name, device="cpu", k=16)
        assert model(src, src).pha.shape == (1, 1, 64, 64)


def test_presets_load_and_yaml_and_overrides_take_precedence(tmp_path):
    for name in ("smoke", "quick", "default", "paper"):
        build_train_config(name)
    paper = build_train_config("paper")
    assert (paper.base.batch, paper.base.size, paper.base.lr_aspp) == (8, 512, 5e-4)
    assert (paper.refine.batch, paper.refine.lr_refiner, paper.refine.k) == (4, 3e-4, 5000)
    yaml_file = tmp_path / "over.yaml"
    yaml_file.write_text("seed: 7\nbase: {steps: 9}\nmodel: {backbone: resnet50}\n")
    config = build_train_config("smoke", yaml_file, {"seed": 8, "model": {"backbone": None}})
    assert (config.seed, config.base.steps, config.base.size) == (8, 9, 32)
    assert config.model.backbone == "resnet50"


def test_configs_with_settings_inside_the_model_section_still_load(tmp_path):
    """Older YAML files and checkpoints kept the base scale and refine mode in `model`."""
    old = {
        "model": {
            "backbone": "mobilenetv2",
            "backbone_scale": 0.125,
            "refiner_residual": True,
            "refine": {"mode": "uniform", "k": 5000, "threshold": 0.1, "seed": 0},
        }
    }
    yaml_file = tmp_path / "old.yaml"
    yaml_file.write_text(yaml.safe_dump(old))
    config = build_train_config("smoke", yaml_file)
    assert (config.backbone_scale, config.refine_mode) == (0.125, "uniform")
    assert config.model.architecture() == {
        "backbone": "mobilenetv2",
        "aspp": True,
        "kernel_size": 3,
        "refiner_residual": True,
    }
    stored = to_dict(config) | {"model": old["model"]}
    del stored["backbone_scale"], stored["refine_mode"]
    assert config_from_checkpoint(stored) == config
    assert config.settings(config.refine).k == config.refine.k  # the stage's k, fixed


@pytest.mark.slow  # trains a refine stage
def test_refine_validation_scores_the_refiner_against_upsampling_the_coarse_alpha(tmp_path):
    config = _smoke(
        stage="refine", refine={"steps": 2, "batch": 2}, data_length=64, val_every=2, val_samples=2
    )
    result = train(config, tmp_path, device="cpu", dataset_fn=dataset_fn())
    row = result.history[-1]
    keys = ("mad_upsampled", "grad_upsampled", "patch_l1", "patch_l1_upsampled")
    assert all(row[key] == row[key] and row[key] >= 0 for key in keys)  # present, not NaN
    assert row["mad"] != row["mad_upsampled"]  # the refiner changed some pixels


@pytest.mark.slow  # trains
def test_a_learning_rate_of_0_freezes_that_part(tmp_path):
    from bgmcli.errors import BgmError
    from bgmcli.loading import build_model
    from bgmcli.model.config import ModelConfig
    from bgmcli.train.stagenet import param_groups

    frozen = {"lr_backbone": 0.0, "lr_aspp": 0.0, "lr_decoder": 0.0}
    config = _smoke(stage="refine", refine={"steps": 2, "batch": 2, **frozen}, val_every=2)
    model = build_model(ModelConfig())
    groups = param_groups(model, "refine", config.refine)
    assert [g["name"] for g in groups] == ["refiner"]
    assert not any(p.requires_grad for p in model.backbone.parameters())
    result = train(config, tmp_path, device="cpu", dataset_fn=dataset_fn())
    assert result.history[-1]["mad"] == result.history[-1]["mad"]
    with pytest.raises(BgmError, match="trains nothing"):
        param_groups(model, "base", config.refine)
    with pytest.raises(BgmError, match="lr_aspp must be 0"):
        _smoke(base={"lr_aspp": -1e-3})


def test_refine_stage_keeps_the_base_networks_batchnorm_statistics():
    from bgmcli.loading import build_model
    from bgmcli.model.config import ModelConfig
    from bgmcli.train.stagenet import StageNet

    model = build_model(ModelConfig())
    bn = torch.nn.modules.batchnorm._BatchNorm

    def modes(part):
        return {m.training for m in part.modules() if isinstance(m, bn)}

    net = StageNet(model, "refine").train()
    assert modes(model.backbone) == modes(model.aspp) == modes(model.decoder) == {False}
    assert modes(model.refiner) == {True}
    before = model.aspp.convs[4][2].running_mean.clone()  # the pooling branch's BatchNorm
    src, bgr = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    net(src, bgr, torch.rand(2, 1, 64, 64), torch.rand(2, 3, 64, 64)).backward()
    from bgmcli.train.validate import validate

    sample = {"src": src[0], "bgr": bgr[0], "true_pha": torch.rand(1, 64, 64),
              "true_fgr": torch.rand(3, 64, 64)}  # fmt: skip
    assert 0 < validate(net, [sample], torch.device("cpu"))["mad"] < 1
    assert torch.equal(model.aspp.convs[4][2].running_mean, before)
    StageNet(model, "base").train()
    assert modes(model.backbone) == modes(model.aspp) == {True}


@pytest.mark.slow  # trains a base stage
def test_a_base_stage_with_frozen_batchnorm_moves_weights_not_statistics(tmp_path):
    config = _smoke(stage="base", base={"steps": 3, "freeze_batchnorm": True}, val_every=3)
    seed_everything(config.seed)  # the run's initial weights
    start = build_model(config.model).state_dict()
    result = train(config, tmp_path, device="cpu", dataset_fn=dataset_fn())
    trained = torch.load(result.model_path, weights_only=True)["model"]
    stats = [k for k in start if k.endswith(("running_mean", "running_var"))]
    stats = [k for k in stats if not k.startswith("refiner.")]
    weights = [k for k in start if k.startswith("backbone.") and k.endswith(".weight")]
    assert stats and all(torch.allclose(trained[k].float(), start[k]) for k in stats)
    assert any(not torch.allclose(trained[k].float(), start[k]) for k in weights)
    with pytest.raises(BgmError, match="freeze_batchnorm: expected true or false"):
        _smoke(base={"freeze_batchnorm": "yes"})


def test_stage_base_at_an_input_scale_sees_the_crop_as_a_frame_shrinks_it():
    from bgmcli.loading import build_model
    from bgmcli.model.config import ModelConfig
    from bgmcli.train.stagenet import StageNet

    net = StageNet(build_model(ModelConfig()), "base", input_scale=0.5).train()
    src, bgr = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    pha, fgr, err = net.outputs(src, bgr)
    assert pha.shape[2:] == fgr.shape[2:] == err.shape[2:] == (32, 32)
    net(src, bgr, torch.rand(2, 1, 64, 64), torch.rand(2, 3, 64, 64)).backward()
    from bgmcli.train.validate import validate

    sample = {"src": src[0], "bgr": bgr[0], "true_pha": torch.rand(1, 64, 64),
              "true_fgr": torch.rand(3, 64, 64)}  # fmt: skip
    assert 0 < validate(net, [sample], torch.device("cpu"))["mad"] < 1
