"""bgm: high-resolution background matting of video (BackgroundMattingV2) and its ablations."""

__version__ = "0.1.0"
__all__ = [
    "load_model",
    "build_model",
    "MattingOutput",
    "ModelConfig",
    "InferenceSettings",
    "BgmError",
]


def __getattr__(name: str):
    # Lazy: `bgm --version` and `bgm --help` should not pay for importing torch.
    if name in ("load_model", "build_model"):
        from bgmcli import loading

        return getattr(loading, name)
    if name == "MattingOutput":
        from bgmcli.model.matting import MattingOutput

        return MattingOutput
    if name == "ModelConfig":
        from bgmcli.model.config import ModelConfig

        return ModelConfig
    if name == "InferenceSettings":
        from bgmcli.model.settings import InferenceSettings

        return InferenceSettings
    if name == "BgmError":
        from bgmcli.errors import BgmError

        return BgmError
    raise AttributeError(f"module 'bgmcli' has no attribute {name!r}")
