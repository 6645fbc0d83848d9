"""Reading a TFLite MobileNetV2 / DeepLabV3 file (e.g. Google's Coral test data) into our state
dict: dequantised tensors, the encoder's convolutions (BatchNorm folded) and the ASPP's 1x1,
pooling and projection convolutions. See docs/training.md, "Starting from TFLite weights"."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import tflite
import torch
from torch import nn
from torchvision.models.segmentation.deeplabv3 import ASPP

from bgmcli.errors import BgmError
from bgmcli.model.backbones import MobileNetV2Encoder

MAGIC = b"TFL3"  # the flatbuffer's file identifier, bytes 4..8
FIRST = "MobilenetV2/Conv"
LAST = "MobilenetV2/expanded_conv_16/project"
HEAD = ("aspp0", "image_pooling", "concat_projection")
_CONV_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D")


class ConvLayer(NamedTuple):
    """A convolution's float weight in torch layout (O, I, H, W) or (C, 1, H, W), and its bias."""

    weight: np.ndarray
    bias: np.ndarray


def is_tflite_file(path: str | Path) -> bool:
    """True for a `.tflite` name or a file whose bytes 4..8 are the flatbuffer identifier TFL3."""
    path = Path(path)
    if path.suffix.lower() == ".tflite":
        return True
    try:
        with open(path, "rb") as f:
            return f.read(8)[4:8] == MAGIC
    except OSError:
        return False


def read_tensors(path: str | Path) -> dict[str, np.ndarray]:
    """Every constant tensor of the file by its name, dequantised to float32 (TFLite layouts)."""
    model = _parse(path)
    graph = model.Subgraphs(0)
    tensors = {}
    for i in range(graph.TensorsLength()):
        tensor = graph.Tensors(i)
        value = _value(model, tensor)
        if value is not None:
            tensors[tensor.Name().decode()] = value
    return tensors


def read_conv_layers(path: str | Path) -> dict[str, ConvLayer]:
    """The file's convolutions by layer name ("MobilenetV2/Conv", "aspp0", "logits/semantic"),
    found through the graph's CONV_2D / DEPTHWISE_CONV_2D operators (tensor names are fused)."""
    model = _parse(path)
    graph = model.Subgraphs(0)
    kinds = {getattr(tflite.BuiltinOperator, op): op for op in _CONV_OPS}
    layers = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = kinds.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()))
        if kind is not None and op.InputsLength() >= 2:
            named = _conv_layer(model, graph, op, depthwise=kind == "DEPTHWISE_CONV_2D")
            if named is not None:
                layers[named[0]] = named[1]
    return layers


def _conv_layer(model, graph, op, depthwise: bool) -> tuple[str, ConvLayer] | None:
    """(layer name, ConvLayer) of a convolution with constant weights; None otherwise."""
    weight_t = graph.Tensors(op.Inputs(1))
    weight = _value(model, weight_t)
    if weight is None:
        return None
    has_bias = op.InputsLength() > 2 and op.Inputs(2) >= 0
    bias = _value(model, graph.Tensors(op.Inputs(2))) if has_bias else None
    channels = weight.shape[-1] if depthwise else weight.shape[0]
    bias = np.zeros(channels, np.float32) if bias is None else bias
    weight = weight.transpose((3, 0, 1, 2) if depthwise else (0, 3, 1, 2))  # 1HWC, OHWI -> torch
    name = weight_t.Name().decode().split(";")[0].rsplit("/", 1)[0]  # "aspp0/Conv2D_Fold;..."
    return name, ConvLayer(np.ascontiguousarray(weight), bias)


def load_tflite_weights(model: nn.Module, path: str | Path) -> str:
    """Load a TFLite MobileNetV2 (1.0 wide) into `model.backbone` and, when both have it, the
    DeepLab head into `model.aspp`; returns what was loaded, in words."""
    if not isinstance(model.backbone, MobileNetV2Encoder):
        name = getattr(getattr(model, "config", None), "backbone", type(model.backbone).__name__)
        raise BgmError(f"{path}: TFLite weights fit backbone mobilenetv2 only, not {name}")
    layers = read_conv_layers(path)
    check_architecture(layers, path)
    _load(model.backbone, encoder_state(layers, model.backbone), path)
    if not all(name in layers for name in HEAD):
        return "backbone only (the file has no DeepLab ASPP head)"
    if not isinstance(model.aspp, ASPP):
        return "backbone only (this model has no ASPP)"
    _load(model.aspp, aspp_state(layers, model.aspp, path), path)
    return "backbone + ASPP 1x1/pooling/projection"


def check_architecture(layers: dict[str, ConvLayer], path: str | Path) -> None:
    """A MobileNetV2 of depth multiplier 1.0, or a one-line BgmError saying what it is instead."""
    if FIRST not in layers or LAST not in layers:
        raise BgmError(f"{path}: a TFLite model of another architecture (no MobileNetV2 layers)")
    width = layers[LAST].weight.shape[0] / 320
    if width != 1:
        raise BgmError(f"{path}: MobileNetV2 {width:g} wide, expected 1.0")


def encoder_state(layers: dict[str, ConvLayer], encoder: nn.Module) -> dict[str, torch.Tensor]:
    """MobileNetV2Encoder's convolutions and BatchNorms from the file's (folded) layers."""
    state = {}
    for tf_name, conv, bn in _encoder_pairs():
        weight, bias = layers[tf_name]
        if tf_name == FIRST:
            weight = source_and_plate_kernel(weight)
        state[f"{conv}.weight"] = torch.from_numpy(weight)
        state |= _identity_bn(encoder.get_submodule(bn), bn, bias)
    return state


def source_and_plate_kernel(weight: np.ndarray) -> np.ndarray:
    """The first convolution's 6-channel kernel from the file's RGB kernel W, which expects pixels
    y = 2x - 1 in [-1, 1]. Source channels get 2W and plate channels -2W, so the layer computes
    W on y_src - y_bgr = 2 (src - bgr), and the -sum(W) of the [-1, 1] shift cancels between the
    two halves: the bias stays b. Plate = -W was by far the best start in 600-step base runs
    (plate = 0 much worse). On a plate of 0.5 grey this is exactly the pretrained first layer,
    borders included (zero padding of src and plate = the file's zero padding of y)."""
    return np.concatenate([2 * weight, -2 * weight], axis=1)


def aspp_state(layers: dict[str, ConvLayer], aspp: ASPP, path: str | Path) -> dict:
    """torchvision's ASPP from DeepLab's aspp0 (-> convs.0), image_pooling (-> convs.last) and
    concat_projection (-> project.0), whose input is [image_pooling, aspp0] in that order."""
    last = len(aspp.convs) - 1
    proj = layers["concat_projection"].weight
    own = aspp.project[0].weight
    width = layers["aspp0"].weight.shape[0]
    if proj.shape[1] != 2 * width or own.shape[0] != proj.shape[0] or own.shape[1] % width:
        raise BgmError(
            f"{path}: DeepLab head {tuple(proj.shape)} does not fit our ASPP projection "
            f"{tuple(own.shape)}"
        )
    # the atrous branches have no counterpart in the file: they stay randomly initialised, and
    # their projection columns start at zero, so the projected output equals the file's head
    weight = np.zeros(tuple(own.shape), np.float32)
    weight[:, :width] = proj[:, width:]  # aspp0, our first branch
    weight[:, -width:] = proj[:, :width]  # image pooling, our last branch
    state = {"convs.0.0.weight": torch.from_numpy(layers["aspp0"].weight)}
    state |= _identity_bn(aspp.convs[0][1], "convs.0.1", layers["aspp0"].bias)
    state[f"convs.{last}.1.weight"] = torch.from_numpy(layers["image_pooling"].weight)
    state |= _identity_bn(aspp.convs[last][2], f"convs.{last}.2", layers["image_pooling"].bias)
    state["project.0.weight"] = torch.from_numpy(weight)
    return state | _identity_bn(aspp.project[1], "project.1", layers["concat_projection"].bias)


def _encoder_pairs() -> list[tuple[str, str, str]]:
    """(file's layer, our conv, our BatchNorm) for every convolution of MobileNetV2Encoder."""
    pairs = [
        (FIRST, "features.0.0", "features.0.1"),
        ("MobilenetV2/expanded_conv/depthwise", "features.1.conv.0.0", "features.1.conv.0.1"),
        ("MobilenetV2/expanded_conv/project", "features.1.conv.1", "features.1.conv.2"),
    ]
    for n in range(1, 17):  # expanded_conv_N is features.N+1: expand, depthwise, project
        tf, ours = f"MobilenetV2/expanded_conv_{n}", f"features.{n + 1}.conv"
        pairs += [
            (f"{tf}/expand", f"{ours}.0.0", f"{ours}.0.1"),
            (f"{tf}/depthwise", f"{ours}.1.0", f"{ours}.1.1"),
            (f"{tf}/project", f"{ours}.2", f"{ours}.3"),
        ]
    return pairs


def _identity_bn(bn: nn.BatchNorm2d, key: str, bias: np.ndarray) -> dict[str, torch.Tensor]:
    """A BatchNorm that adds the folded bias and changes nothing else (in eval mode), so that
    training can go on from the folded convolution."""
    bias = torch.from_numpy(np.asarray(bias, np.float32))
    return {
        f"{key}.weight": torch.ones_like(bias),
        f"{key}.bias": bias,
        f"{key}.running_mean": torch.zeros_like(bias),
        f"{key}.running_var": torch.full_like(bias, 1 - bn.eps),
    }


def _load(module: nn.Module, new: dict[str, torch.Tensor], path: str | Path) -> None:
    own = module.state_dict()
    for key, value in new.items():
        if own[key].shape != value.shape:
            raise BgmError(
                f"{path}: a TFLite model of another architecture ({key}: "
                f"{tuple(value.shape)} where ours is {tuple(own[key].shape)})"
            )
        own[key] = value.to(own[key].dtype)
    module.load_state_dict(own)


def _parse(path: str | Path):
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise BgmError(f"backbone weights not found: {path}") from None
    except OSError as exc:
        raise BgmError(f"{path}: cannot read ({exc.strerror})") from None
    if data[4:8] != MAGIC:
        raise BgmError(f"{path} is not a TFLite model (no TFL3 flatbuffer identifier)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        if model.SubgraphsLength() < 1:
            raise ValueError("no subgraph")
        model.Subgraphs(0).TensorsLength()
    except Exception as exc:  # a damaged flatbuffer fails in many ways
        raise BgmError(f"{path} is a damaged TFLite model ({type(exc).__name__})") from None
    return model


def _value(model, tensor) -> np.ndarray | None:
    """A constant tensor's values as float32, dequantised ((q - zero_point) * scale, per tensor
    or per axis); None for activations and types that hold no weights."""
    types = tflite.TensorType
    dtypes = {types.FLOAT32: np.float32, types.FLOAT16: np.float16, types.UINT8: np.uint8,
              types.INT8: np.int8, types.INT32: np.int32}  # fmt: skip
    data = model.Buffers(tensor.Buffer()).DataAsNumpy()
    if tensor.Type() not in dtypes or isinstance(data, int) or data.size == 0:
        return None
    shape = tuple(tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
    values = data.view(dtypes[tensor.Type()]).reshape(shape).astype(np.float64)
    quant = tensor.Quantization()
    if quant is not None and quant.ScaleLength():
        axis_shape = [1] * len(shape)
        if quant.ScaleLength() > 1:
            axis_shape[quant.QuantizedDimension()] = -1
        scale = quant.ScaleAsNumpy().reshape(axis_shape or ())
        zero = quant.ZeroPointAsNumpy() if quant.ZeroPointLength() else np.zeros(1)
        values = (values - zero.reshape(axis_shape or ())) * scale
    return values.astype(np.float32)
