"""StreamingScanner: scores for a batch of endless streams, each frame of each layer computed once."""

from __future__ import annotations

import torch

from asr_cnn.layers.streaming import reset_streams
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.streaming.scan import as_batch


class StreamingScanner:
    """Push audio chunks of any size, get the posteriors of every window completed so far.

    Row ``n`` of a stream's output is exactly ``scan``'s row ``n`` for that stream's audio. Streams of one
    batch share a clock of score rows; a stream reset mid-batch starts on the next row boundary: its
    first samples are held back by less than one hop, and rows whose window began before its start are
    NaN for that stream (never mixed with audio from before the reset).

    Non-finite samples are replaced by 0 and samples outside [-1, 1] are clipped before they reach the
    front end, so one bad sample cannot poison the state; ``bad_samples`` counts them per stream.

    Args:
        spotter: The model; used in eval mode and moved to ``device``.
        batch_size: Number of independent streams B.
        device: Where state and compute live.
        dtype: Compute dtype of the state (float32 by default).
    """

    def __init__(self, spotter: KeywordSpotter, batch_size: int = 1, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.spotter = spotter.eval().to(device)
        self.batch_size, self.device, self.dtype = batch_size, torch.device(device), dtype
        self.reset()

    @property
    def labels(self) -> list[str]:
        return self.spotter.labels

    @torch.inference_mode()  # push makes the state in inference mode; only inference mode may update it
    def reset(self, streams: list[int] | torch.Tensor | None = None) -> None:
        """Start some streams (default: all) afresh.

        Args:
            streams: Indices or a boolean mask (B,) of the streams to restart; ``None`` restarts all and
                the shared clock.
        """
        if streams is None:
            self.state = self.spotter.init_state(self.batch_size, self.device, self.dtype)
            self.samples_seen = 0  # shared clock, in samples since the last full reset
            self.rows_emitted = 0
            self.last_first_row = 0  # the latest first valid row of any stream, to skip masking when done
            self.first_row = torch.zeros(self.batch_size, dtype=torch.long, device=self.device)
            self.delay = torch.zeros(self.batch_size, dtype=torch.long, device=self.device)
            self.carry = None  # samples held back for delayed streams, made on the first partial reset
            self.bad_samples = torch.zeros(self.batch_size, dtype=torch.long)
            return
        mask = self._mask(streams)
        hop = self.spotter.hop_samples
        delay = -self.samples_seen % hop  # to the next row boundary of the shared clock
        self.state = reset_streams(self.state, mask)
        self.delay[mask] = delay
        self.first_row[mask] = (self.samples_seen + delay) // hop
        self.last_first_row = (self.samples_seen + delay) // hop
        if self.carry is None:
            self.carry = torch.zeros(self.batch_size, hop, device=self.device, dtype=self.dtype)
        self.carry[mask] = 0.0
        self.bad_samples[mask.cpu()] = 0

    @torch.inference_mode()
    def push(self, chunk: torch.Tensor) -> torch.Tensor:
        """Feed the next samples of every stream.

        Args:
            chunk: New samples, the same count for every stream; (S_chunk,) is accepted when B == 1.

        Returns:
            Posteriors of the windows completed by this chunk, NaN where a stream has not yet filled a
            window since its reset.

        Shape:
            chunk: (B, S_chunk). Output: (B, n_new, K).
        """
        chunk = as_batch(chunk).to(self.device, self.dtype)
        if chunk.shape[0] != self.batch_size:
            raise ValueError(f"chunk has {chunk.shape[0]} streams, the scanner was made for {self.batch_size}")
        chunk = self._sanitise(chunk)
        if self.carry is not None:
            chunk = self._delay(chunk)
        logits, self.state = self.spotter.streaming_forward(chunk, self.state)  # (B, K, n_new)
        self.samples_seen += chunk.shape[-1]
        posteriors = logits.transpose(1, 2).softmax(-1)  # (B, n_new, K)
        first_row, n_new = self.rows_emitted, posteriors.shape[1]
        self.rows_emitted += n_new
        if first_row >= self.last_first_row:  # no stream is waiting for its first window: nothing to mask
            return posteriors
        rows = first_row + torch.arange(n_new, device=self.device)  # (n_new,)
        early = rows[None, :] < self.first_row[:, None]  # (B, n_new) windows that began before a reset
        return posteriors.masked_fill(early[..., None], float("nan"))

    def _sanitise(self, chunk: torch.Tensor) -> torch.Tensor:
        """Zero non-finite samples and clip to [-1, 1], counting both per stream."""
        bad = ~(chunk.abs() <= 1.0)  # NaN compares false, so this one test finds NaN, Inf and clipping
        if bad.any():
            finite = torch.isfinite(chunk)
            self.bad_samples += bad.sum(-1).cpu()
            chunk = torch.where(finite, chunk, torch.zeros((), dtype=chunk.dtype, device=chunk.device)).clamp(-1.0, 1.0)
        return chunk

    def _delay(self, chunk: torch.Tensor) -> torch.Tensor:
        """Shift each stream right by its delay, keeping the held-back tail for the next chunk.

        Shape:
            chunk: (B, S_chunk). Output: (B, S_chunk).
        """
        hop, n = self.carry.shape[-1], chunk.shape[-1]
        joined = torch.cat([self.carry, chunk], dim=-1)  # (B, hop + S_chunk)
        start = hop - self.delay  # (B,) where each stream's next sample sits in `joined`
        index = start[:, None] + torch.arange(n, device=self.device)[None, :]  # (B, S_chunk)
        self.carry = joined[:, -hop:]
        return joined.gather(1, index)

    def _mask(self, streams: list[int] | torch.Tensor) -> torch.Tensor:
        """Boolean mask (B,) from indices or a mask, validated."""
        streams = torch.as_tensor(streams, device=self.device)
        if streams.dtype == torch.bool:
            if streams.shape != (self.batch_size,):
                raise ValueError(f"stream mask must have shape ({self.batch_size},), got {tuple(streams.shape)}")
            return streams
        if streams.numel() and (streams.min() < 0 or streams.max() >= self.batch_size):
            raise ValueError(f"stream indices must be in [0, {self.batch_size}), got {streams.tolist()}")
        mask = torch.zeros(self.batch_size, dtype=torch.bool, device=self.device)
        mask[streams.long()] = True
        return mask
