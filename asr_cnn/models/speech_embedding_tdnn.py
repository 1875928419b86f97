"""The pretrained speech_embedding backbone with a TDNN over its embedding sequence."""

from __future__ import annotations

from collections.abc import Sequence

from asr_cnn.layers import StreamingSequential
from asr_cnn.models.speech_embedding import SpeechEmbedding
from asr_cnn.models.tdnn import TDNNBody


class SpeechEmbeddingTDNN(StreamingSequential):
    """:class:`SpeechEmbedding` (one 96-d embedding per 80 ms), then a :class:`TDNNBody` over the embeddings.

    The TDNN's offsets count embeddings: ``[-1, 0, 1]`` reads three consecutive ones, so one output
    sees 76 + 2 x 8 = 92 frames (0.94 s) of features. The TDNN's input batch norm rescales the
    embeddings (magnitudes up to ~70) for it.

    Args:
        in_features: F, mel bands per frame; must be 32.
        trainable_blocks: As :class:`SpeechEmbedding` (0 freezes the backbone).
        channels: Output channels of each TDNN layer.
        offsets: Context offsets of each TDNN layer, in frames of the layer below (embeddings first).
        strides: Time stride of each TDNN layer.

    Raises:
        ValueError: As :class:`SpeechEmbedding` and :class:`TDNNBody`.
    """

    def __init__(self, in_features: int, trainable_blocks: int, channels: Sequence[int],
                 offsets: Sequence[Sequence[int]], strides: Sequence[int]) -> None:
        backbone = SpeechEmbedding(in_features, trainable_blocks)
        tdnn = TDNNBody(backbone.out_channels, channels, offsets, strides)
        super().__init__(named={"backbone": backbone, "tdnn": tdnn})
        self.in_features, self.out_channels = in_features, tdnn.out_channels

    def frozen_children(self) -> int:
        """1 (the backbone) when the backbone is frozen whole, else 0: the TDNN always trains (a backbone
        frozen in part declares its own frozen stages)."""
        backbone = self.backbone
        return int(backbone.frozen_children() == len(list(backbone.children())))
