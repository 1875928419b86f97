"""The schemas of the spotter's configs: ``spotter`` in ``conf/train.yaml`` and one per constructor's file in
``conf/model`` (bodies) and ``conf/head``; the values are in those files.

Hydra checks the types while composing; each constructor checks the rest (that its lists have one entry per
layer, a block count in range) when :meth:`~asr_cnn.models.spotter.KeywordSpotter.from_config` builds it.
A new body needs no schema to train: an option without one (:data:`MODEL_SCHEMAS`) composes untyped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asr_cnn.layers.head import POOLS
from asr_cnn.schema import Target, integer, number, positive, setting

POOL = f"be {', '.join(POOLS[:-1])} or {POOLS[-1]}"  # how the head pools the window's frames


def _per_layer(what: str) -> Any:
    """A list with an entry per layer (the constructor checks the counts agree)."""
    return setting(f"be a list of {what}, one per layer")


def _pair(what: str) -> Any:
    """A (frequency, time) pair."""
    return setting(f"be [frequency, time] {what}")


@dataclass
class SpotterConfig:
    """``spotter``: read by :meth:`~asr_cnn.models.spotter.KeywordSpotter.from_config` (values in
    ``conf/train.yaml``)."""

    window_seconds: float = positive()


@dataclass
class CNN2dConfig(Target):
    """``model``: :class:`~asr_cnn.models.cnn2d.CNN2d` (``conf/model/cnn2d.yaml``)."""

    channels: list[int] = _per_layer("channel counts")
    kernel_sizes: list[list[int]] = _per_layer("[frequency, time] kernel sizes")
    time_strides: list[int] = _per_layer("time strides")
    freq_pool: int = integer(1)


@dataclass
class DSCNNConfig(Target):
    """``model``: :class:`~asr_cnn.models.ds_cnn.DSCNN` (``conf/model/ds_cnn.yaml``)."""

    channels: int = integer(1)
    kernel_size: list[int] = _pair("kernel sizes")
    stride: list[int] = _pair("strides")
    blocks: int = integer(1)
    block_kernel_size: list[int] = _pair("kernel sizes")
    block_dilation: list[int] = _pair("dilations")


@dataclass
class Res8Config(Target):
    """``model``: :class:`~asr_cnn.models.res8.Res8` (``conf/model/res8.yaml``)."""

    channels: int = integer(1)
    blocks: int = integer(1)
    kernel_size: int = integer(1)
    pool: list[int] = _pair("pooling sizes")


@dataclass
class SpeechEmbeddingConfig(Target):
    """``model``: :class:`~asr_cnn.models.speech_embedding.SpeechEmbedding` (``conf/model/speech_embedding.yaml``)."""

    trainable_blocks: int = integer(0)


@dataclass
class SpeechEmbeddingTDNNConfig(SpeechEmbeddingConfig):
    """``model``: :class:`~asr_cnn.models.speech_embedding_tdnn.SpeechEmbeddingTDNN`
    (``conf/model/speech_embedding_tdnn.yaml``)."""

    channels: list[int] = _per_layer("channel counts")
    offsets: list[list[int]] = _per_layer("frame-offset lists")
    strides: list[int] = _per_layer("time strides")


@dataclass
class TCResNet8Config(Target):
    """``model``: :class:`~asr_cnn.models.tc_resnet8.TCResNet8` (``conf/model/tc_resnet8.yaml``)."""

    channels: list[int] = setting("be a list of channel counts: the first convolution's, then each block's")
    kernel_size: int = integer(1)
    first_kernel_size: int = integer(1)


@dataclass
class TDNNBodyConfig(Target):
    """``model``: :class:`~asr_cnn.models.tdnn.TDNNBody` (``conf/model/tdnn.yaml``)."""

    channels: list[int] = _per_layer("channel counts")
    offsets: list[list[int]] = _per_layer("frame-offset lists")
    strides: list[int] = _per_layer("time strides")


@dataclass
class WindowHeadConfig(Target):
    """``head``: :class:`~asr_cnn.layers.head.WindowHead` (``conf/head/default.yaml``)."""

    pool: str = setting(POOL)
    hidden: int = integer(0)
    dropout: float = number(0, 1)


@dataclass
class TDNNHeadsConfig(Target):
    """``head``: :class:`~asr_cnn.models.tdnn_heads.TDNNHeads` (``conf/head/tdnn_heads.yaml``)."""

    members: int = integer(1)
    channels: list[int] = _per_layer("channel counts")
    offsets: list[list[int]] = _per_layer("frame-offset lists")
    strides: list[int] = _per_layer("time strides")
    pool: str = setting(POOL)
    hidden: int = integer(0)
    dropout: float = number(0, 1)


MODEL_SCHEMAS: dict[str, type] = {
    "cnn2d": CNN2dConfig, "ds_cnn": DSCNNConfig, "res8": Res8Config, "speech_embedding": SpeechEmbeddingConfig,
    "speech_embedding_tdnn": SpeechEmbeddingTDNNConfig, "tc_resnet8": TCResNet8Config, "tdnn": TDNNBodyConfig}
"""``conf/model/<option>.yaml`` -> its schema."""

HEAD_SCHEMAS: dict[str, type] = {"default": WindowHeadConfig, "tdnn_heads": TDNNHeadsConfig}
"""``conf/head/<option>.yaml`` -> its schema."""
