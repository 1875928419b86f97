"""Wake-word evaluation over long labelled streams: hits, misses, false alarms, DET curve, thresholds.

A stream is ``<id>.wav`` with ``<id>.json``, a list of ``{"keyword", "start_s", "end_s"}`` (the spoken
keywords). An event is a *hit* when its keyword matches a not yet matched label and its window overlaps
that label's span; every other event is a *false alarm*; a label no event hits is a *miss*.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from matplotlib.figure import Figure
from omegaconf import DictConfig

from asr_cnn.audio import AudioError
from asr_cnn.detect.detector import Detector
from asr_cnn.detect.events import Event
from asr_cnn.detect.files import DEFAULT_BLOCK_SECONDS, read_blocks
from asr_cnn.detect.picking import EventPicker
from asr_cnn.threads import torch_threads
from asr_cnn.models.spotter import KeywordSpotter

SECONDS_PER_HOUR = 3600.0
REFERENCE_THRESHOLD = 0.5
"""Operating point reported as "FRR at 0.5"."""

REFERENCE_FA_PER_HOUR = 1.0
"""Operating point reported as "FRR at 1 false alarm per hour"."""

SWEEP_THRESHOLDS = torch.cat([torch.linspace(0.0, 0.99, 100, dtype=torch.float64),
                              1.0 - torch.logspace(-2.25, -4.0, 8, dtype=torch.float64)])
"""DET sweep: steps of 0.01, then finer towards 1 where trained models put their false alarms."""

PICK_BLOCK_ROWS = 1024
"""Rows picked per call during a sweep: keeps each pass of the picker short on hour-long streams."""

DET_FILENAME, METRICS_FILENAME = "det.png", "stream_metrics.json"


@dataclass(frozen=True)
class LabelledStream:
    """One long test stream.

    Attributes:
        audio: The sound file.
        labels: Its spoken keywords, ``{"keyword", "start_s", "end_s"}`` each, sorted by start.
    """

    audio: Path
    labels: list[dict[str, Any]]


@dataclass(frozen=True)
class OperatingPoint:
    """Counts and rates at one threshold, over all streams."""

    threshold: float | None
    hits: int
    misses: int
    false_alarms: int
    frr: float
    fa_per_hour: float


def load_streams(folder: str | os.PathLike, keywords: list[str]) -> list[LabelledStream]:
    """Every ``<id>.wav`` in ``folder`` with its ``<id>.json`` labels, sorted by name.

    Raises:
        AudioError: No stream, a missing or malformed label file, or a label for an unknown keyword.
    """
    folder = Path(folder)
    wavs = sorted(folder.glob("*.wav"))
    if not wavs:
        raise AudioError(f"{folder}: no <id>.wav stream found")
    streams = []
    for wav in wavs:
        labels_path = wav.with_suffix(".json")
        try:
            labels = json.loads(labels_path.read_text())
            labels = sorted(({"keyword": str(lab["keyword"]), "start_s": float(lab["start_s"]),
                              "end_s": float(lab["end_s"])} for lab in labels), key=lambda lab: lab["start_s"])
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise AudioError(f"{labels_path}: expected a JSON list of {{keyword, start_s, end_s}} ({err!r})") from err
        unknown = sorted({lab["keyword"] for lab in labels} - set(keywords))
        if unknown:
            raise AudioError(f"{labels_path}: keyword(s) {unknown} are not among the spotter's {keywords}")
        streams.append(LabelledStream(wav, labels))
    return streams


def stream_scores(detector: Detector, path: str | os.PathLike, block_seconds: float = DEFAULT_BLOCK_SECONDS
                  ) -> tuple[torch.Tensor, float]:
    """Smoothed posteriors of every window of one file, streamed in bounded memory.

    Returns:
        The scores and the file's duration in seconds.

    Shape:
        Output scores: (N, K).
    """
    detector.reset()
    rows, samples = [], 0
    for block in read_blocks(path, detector.spotter.sample_rate, block_seconds):
        rows.append(detector.step(block)[0][0].cpu())  # (n_new, K) of the single stream
        samples += block.shape[-1]
    return torch.cat(rows), samples / detector.spotter.sample_rate


def events_at(detector: Detector, scores: torch.Tensor, thresholds: torch.Tensor) -> list[Event]:
    """The events ``detector`` fires on one stream's smoothed scores with other per-class thresholds.

    The detector must have scored that stream last (:func:`stream_scores`), so its clock starts at row 0.

    Shape:
        scores: (N, K). thresholds: (K,).
    """
    picker = EventPicker(thresholds.to(scores.device), detector.picker.refractory_rows, batch_size=1)
    picks = [pick for start in range(0, scores.shape[0], PICK_BLOCK_ROWS)
             for pick in picker.push(scores[None, start:start + PICK_BLOCK_ROWS], start)]
    return [detector.to_event(pick) for pick in picks]


def overlaps(event: Event, label: dict[str, Any]) -> bool:
    """Whether an event names a label's keyword and its window overlaps the label's time."""
    return label["keyword"] == event.keyword and event.start_s < label["end_s"] and label["start_s"] < event.end_s


def hit_flags(events: list[Event], labels: list[dict[str, Any]]) -> list[bool]:
    """Per event, in order: a hit (it matches a label not matched before) or a false alarm."""
    matched = [False] * len(labels)
    flags = []
    for event in events:
        found = next((i for i, label in enumerate(labels) if not matched[i] and overlaps(event, label)), None)
        if found is not None:
            matched[found] = True
        flags.append(found is not None)
    return flags


def match(events: list[Event], labels: list[dict[str, Any]]) -> tuple[int, int, int]:
    """Hits, misses and false alarms of one stream's events against its labels."""
    hits = sum(hit_flags(events, labels))
    return hits, len(labels) - hits, len(events) - hits


def operating_point(detector: Detector, scored: list[tuple[torch.Tensor, float]], streams: list[LabelledStream],
                    thresholds: torch.Tensor, threshold: float | None) -> OperatingPoint:
    """Totals over all streams with per-class ``thresholds`` (reported as ``threshold``)."""
    hits = misses = false_alarms = 0
    for (scores, _), stream in zip(scored, streams):
        h, m, f = match(events_at(detector, scores, thresholds), stream.labels)
        hits, misses, false_alarms = hits + h, misses + m, false_alarms + f
    hours = sum(seconds for _, seconds in scored) / SECONDS_PER_HOUR
    frr = misses / (hits + misses) if hits + misses else 0.0
    return OperatingPoint(threshold, hits, misses, false_alarms, frr, false_alarms / hours)


def threshold_for(points: list[OperatingPoint], target_fa_per_hour: float) -> OperatingPoint | None:
    """The lowest swept threshold from which on every higher one meets the false-alarm target.

    Points must be sorted by threshold. ``None`` when even the highest threshold has too many.
    """
    best = None
    for point in reversed(points):
        if point.fa_per_hour > target_fa_per_hour:
            break
        best = point
    return best


def plot_det(points: list[OperatingPoint], path: str | os.PathLike, target: OperatingPoint | None) -> None:
    """DET curve: false-reject rate against false alarms per hour, one point per swept threshold."""
    figure = Figure(figsize=(6, 4.5))
    axes = figure.subplots()
    axes.plot([p.fa_per_hour for p in points], [100 * p.frr for p in points], marker=".")
    if target is not None:
        axes.plot([target.fa_per_hour], [100 * target.frr], "o", label=f"threshold {target.threshold:.4g}")
        axes.legend()
    axes.set_xscale("symlog", linthresh=REFERENCE_FA_PER_HOUR)  # linear near 0 FA, logarithmic beyond
    axes.set_xlabel("false alarms per hour")
    axes.set_ylabel("false-reject rate (%)")
    axes.set_title("DET curve (threshold sweep)")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def evaluate_streams(cfg: DictConfig) -> dict[str, Any]:
    """Entry point of ``recipes/evaluate_stream.py``.

    Scores every stream once, then sweeps one threshold for all keywords (``SWEEP_THRESHOLDS``) through the
    detector's own smoothing and refractory logic. Writes the DET PNG and a metrics JSON to
    ``cfg.output_dir``; with ``cfg.write_threshold`` it stores the threshold that meets
    ``cfg.target_fa_per_hour`` for every keyword in the checkpoint's ``extra["thresholds"]``.

    Args:
        cfg: Composed ``conf/evaluate_stream.yaml``.

    Returns:
        The metrics (also written as JSON).

    Raises:
        AudioError: A bad stream folder or label file.
        ValueError: ``write_threshold`` is set but no swept threshold meets the target.
    """
    spotter = KeywordSpotter.load(cfg.checkpoint, map_location=cfg.device)
    detector: Detector = instantiate(cfg.detector)(spotter, device=cfg.device)
    streams = load_streams(cfg.streams, list(detector.thresholds))
    with torch_threads(cfg.threads):
        scored = [stream_scores(detector, stream.audio, cfg.block_seconds) for stream in streams]
    never = torch.isinf(detector.picker.thresholds)  # (K,) classes that never fire
    def at(t: float) -> OperatingPoint:
        return operating_point(detector, scored, streams, detector.picker.thresholds.masked_fill(~never, t), t)
    points = [at(float(t)) for t in SWEEP_THRESHOLDS]
    reference_fa = threshold_for(points, REFERENCE_FA_PER_HOUR)
    target = threshold_for(points, cfg.target_fa_per_hour)
    output = Path(cfg.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    plot_det(points, output / DET_FILENAME, target)
    metrics = {
        "streams": len(streams), "hours": sum(seconds for _, seconds in scored) / SECONDS_PER_HOUR,
        "detector_thresholds": asdict(operating_point(detector, scored, streams, detector.picker.thresholds,
                                                      None)) | {"thresholds": detector.thresholds},
        "at_threshold_0.5": asdict(at(REFERENCE_THRESHOLD)),
        "frr_at_1_fa_per_hour": None if reference_fa is None else reference_fa.frr,
        "target_fa_per_hour": cfg.target_fa_per_hour,
        "target": None if target is None else asdict(target),
        "det_png": str(output / DET_FILENAME),
        "det": [asdict(point) for point in points],
    }
    if cfg.write_threshold:
        if target is None:
            raise ValueError(f"no threshold up to {float(SWEEP_THRESHOLDS[-1]):.4g} keeps false alarms at or "
                             f"below {cfg.target_fa_per_hour}/h; {cfg.checkpoint} left unchanged")
        spotter.extra["thresholds"] = {keyword: target.threshold for keyword in detector.thresholds}
        spotter.cpu().save(cfg.checkpoint)
        metrics["written_to"] = str(cfg.checkpoint)
    (output / METRICS_FILENAME).write_text(json.dumps(metrics, indent=2))
    return metrics
