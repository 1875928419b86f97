"""StreamingScanner: scores for a batch of endless streams, each frame of each layer computed once."""

from __future__ import annotations

import torch

from asr_cnn.streaming.engines import EagerEngine, FastEngine, Model, chosen_runtime, make_engine, spotters_of
from asr_cnn.streaming.scan import as_batch


class StreamingScanner:
    """Push audio chunks of any size, get the posteriors of every window completed so far.

    Row ``n`` of a stream's output is exactly ``scan``'s row ``n`` for that stream's audio. Streams of one
    batch share a clock of score rows; a stream reset mid-batch starts on the next row boundary: its
    first samples are held back by less than one hop, and rows whose window began before its start are
    NaN for that stream (never mixed with audio from before the reset).

    Non-finite samples are replaced by 0 and samples outside [-1, 1] are clipped before they reach the
    front end, so one bad sample cannot poison the state; ``bad_samples`` counts them per stream.

    A :class:`~asr_cnn.models.group.SpotterGroup` scans several spotters over one backbone at once:
    :meth:`push_all` returns each spotter's rows (row ``n`` of each is its window starting at ``n * hop``).

    Args:
        spotter: The model, or a group of them; used in eval mode and moved to ``device``.
        batch_size: Number of independent streams B.
        device: Where state and compute live.
        dtype: Compute dtype of the state (float32 by default).
        runtime: ``"auto"``, ``"fast"`` or ``"eager"`` (:data:`~asr_cnn.streaming.engines.RUNTIMES`); the same
            rows to float tolerance either way. :attr:`runtime` says which one runs. The runtime is built on
            first use, so a scanner that is never pushed (a detector scoring cached features) costs nothing.

    Raises:
        ValueError: ``batch_size`` below 1, an unknown runtime, or ``"fast"`` for a model that cannot take it.
    """

    def __init__(self, spotter: Model, batch_size: int = 1, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32, runtime: str = "auto") -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.spotter = spotter.eval().to(device)
        self.spotters = spotters_of(self.spotter)
        self.batch_size, self.device, self.dtype = batch_size, torch.device(device), dtype
        chosen_runtime(runtime, self.device)  # an unknown runtime fails here, not at the first push
        self.requested, self.built = runtime, None
        self.reset()

    @property
    def engine(self) -> EagerEngine | FastEngine:
        """The runtime's engine, built on first use."""
        if self.built is None:
            self.built = make_engine(self.spotter, self.requested, self.batch_size, self.device, self.dtype)
        return self.built

    @property
    def runtime(self) -> str:
        """``"fast"`` or ``"eager"``: what this scanner runs (``"auto"`` resolved, fallback included)."""
        return self.engine.name

    @property
    def labels(self) -> list[str]:
        """The spotter's classes (a group has one list per spotter: ``[s.labels for s in scanner.spotters]``)."""
        if len(self.spotters) != 1:
            raise ValueError(f"this scanner scores {len(self.spotters)} spotters, each with its own labels")
        return self.spotter.labels

    @torch.inference_mode()  # push makes the state in inference mode; only inference mode may update it
    def reset(self, streams: list[int] | torch.Tensor | None = None) -> None:
        """Start some streams (default: all) afresh.

        Args:
            streams: Indices or a boolean mask (B,) of the streams to restart; ``None`` restarts all and
                the shared clock.
        """
        if streams is None:
            if self.built is not None:
                self.built.reset()
            self.samples_seen = 0  # shared clock, in samples since the last full reset
            self.rows_emitted = [0] * len(self.spotters)  # per spotter: their windows differ
            self.last_first_row = 0  # the latest first valid row of any stream, to skip masking when done
            self.first_row = torch.zeros(self.batch_size, dtype=torch.long, device=self.device)
            self.delay = torch.zeros(self.batch_size, dtype=torch.long, device=self.device)
            self.carry = None  # samples held back for delayed streams, made on the first partial reset
            self.bad_samples = torch.zeros(self.batch_size, dtype=torch.long)
            return
        mask = self._mask(streams)
        hop = self.spotter.hop_samples
        delay = -self.samples_seen % hop  # to the next row boundary of the shared clock
        self.engine.reset(mask)
        self.delay[mask] = delay
        self.first_row[mask] = (self.samples_seen + delay) // hop
        self.last_first_row = (self.samples_seen + delay) // hop
        if self.carry is None:
            self.carry = torch.zeros(self.batch_size, hop, device=self.device, dtype=self.dtype)
        self.carry[mask] = 0.0
        self.bad_samples[mask.cpu()] = 0

    def push(self, chunk: torch.Tensor) -> torch.Tensor:
        """Feed the next samples of every stream.

        Args:
            chunk: New samples, the same count for every stream; (S_chunk,) is accepted when B == 1.

        Returns:
            Posteriors of the windows completed by this chunk, NaN where a stream has not yet filled a
            window since its reset.

        Shape:
            chunk: (B, S_chunk). Output: (B, n_new, K).

        Raises:
            ValueError: The scanner scores a group (use :meth:`push_all`).
        """
        if len(self.spotters) != 1:
            raise ValueError(f"this scanner scores {len(self.spotters)} spotters: use push_all")
        return self.push_all(chunk)[0]

    @torch.inference_mode()
    def push_all(self, chunk: torch.Tensor) -> list[torch.Tensor]:
        """Feed the next samples of every stream; the posteriors of every spotter, as :meth:`push` gives them.

        Shape:
            chunk: (B, S_chunk). Output: one (B, n_new_m, K_m) per spotter.
        """
        chunk = as_batch(chunk).to(self.device, self.dtype)
        if chunk.shape[0] != self.batch_size:
            raise ValueError(f"chunk has {chunk.shape[0]} streams, the scanner was made for {self.batch_size}")
        chunk = self._sanitise(chunk)
        if self.carry is not None:
            chunk = self._delay(chunk)
        logits = self.engine.push(chunk)  # one (B, n_new, K) per spotter
        self.samples_seen += chunk.shape[-1]
        return [self._mask_early(rows.softmax(-1), m) for m, rows in enumerate(logits)]

    def _mask_early(self, posteriors: torch.Tensor, spotter: int) -> torch.Tensor:
        """NaN in the rows whose window began before its stream's last reset.

        Shape:
            posteriors: (B, n_new, K). Output: (B, n_new, K).
        """
        first_row, n_new = self.rows_emitted[spotter], posteriors.shape[1]
        self.rows_emitted[spotter] += n_new
        if first_row >= self.last_first_row:  # no stream is waiting for its first window: nothing to mask
            return posteriors
        rows = first_row + torch.arange(n_new, device=self.device)  # (n_new,)
        early = rows[None, :] < self.first_row[:, None]  # (B, n_new) windows that began before a reset
        return posteriors.masked_fill(early[..., None], float("nan"))

    def _sanitise(self, chunk: torch.Tensor) -> torch.Tensor:
        """Zero non-finite samples and clip to [-1, 1], counting both per stream."""
        low, high = torch.aminmax(chunk)  # one pass; NaN propagates into both
        if -1.0 <= float(low) and float(high) <= 1.0:  # the usual case; NaN compares false
            return chunk
        bad = ~(chunk.abs() <= 1.0)  # NaN compares false, so this one test finds NaN, Inf and clipping
        self.bad_samples += bad.sum(-1).cpu()
        finite = torch.isfinite(chunk)
        return torch.where(finite, chunk, torch.zeros((), dtype=chunk.dtype, device=chunk.device)).clamp(-1.0, 1.0)

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
