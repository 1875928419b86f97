"""A folder of clips in the Speech Commands layout scored as a classifier (``recipes/evaluate.py audio_dir=``).

Every sound file under the folder (any format libsndfile reads, Ogg/Opus included) is classified from
its centred window. A file in ``<folder>/<label>/`` is scored over the classes the folder and the model
share, as published Speech Commands accuracies are ("12 classes": ten words, ``_unknown_``, ``_silence_``):

* the true class is the folder's label, or ``_unknown_`` when the model does not know that label (a word
  it was not trained on is an unknown word to it);
* the predicted class is the model's label, or ``_unknown_`` when it is a keyword the folder has no
  folder for (the default model's ``hello`` on the Speech Commands test set: that clip says some word
  that is not one of the folder's keywords, which is what ``_unknown_`` means there).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from asr_cnn.audio import AudioError, load_audio
from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN, label_folder
from asr_cnn.data.datasets.windows import centre_crop
from asr_cnn.detect.files import audio_files
from asr_cnn.evaluation.metrics import classification_report
from asr_cnn.models.spotter import KeywordSpotter

CELL_WIDTH = 10


def pad_or_crop(wave: torch.Tensor, samples: int) -> torch.Tensor:
    """Centre a clip of any length in ``samples``: crop the middle, or zero-pad both sides evenly.

    Shape:
        wave: (S,). Output: (samples,).
    """
    if wave.shape[0] >= samples:
        return centre_crop(wave[None], samples)[0]
    missing = samples - wave.shape[0]
    return torch.nn.functional.pad(wave, (missing // 2, missing - missing // 2))


def folder_label(path: Path, audio_dir: Path) -> str | None:
    """The ``<label>`` folder a file sits in directly, ``None`` for a file at the top of ``audio_dir``."""
    return path.parent.name if path.parent != audio_dir else None


def scored_classes(labels: list[str], folder_labels: set[str]) -> list[str]:
    """The classes a folder is scored over, in the model's order: its non-keyword classes (always, with
    ``_unknown_`` as the sink of everything else) and the keywords the folder has a folder for."""
    return [label for label in labels if label in (SILENCE, UNKNOWN) or label_folder(label) in folder_labels]


def as_class(label: str, classes: list[str]) -> int:
    """Index in ``classes`` of a model label or a folder name; ``_unknown_`` when it is none of them."""
    folders = [label_folder(name) for name in classes]
    return folders.index(label_folder(label)) if label_folder(label) in folders else classes.index(UNKNOWN)


def windows(spotter: KeywordSpotter, paths: list[Path], batch_size: int
            ) -> Iterator[tuple[list[Path], torch.Tensor, list[dict[str, str]]]]:
    """Batches of readable files with their centred windows, and the files that could not be read.

    Shape:
        Output: windows (B, W).
    """
    for start in range(0, len(paths), batch_size):
        readable, waves, errors = [], [], []
        for path in paths[start:start + batch_size]:
            try:
                waves.append(pad_or_crop(load_audio(path, spotter.sample_rate), spotter.window_samples))
                readable.append(path)
            except AudioError as err:
                errors.append({"path": str(path), "error": str(err)})
        yield readable, torch.stack(waves) if waves else torch.zeros(0, spotter.window_samples), errors


@torch.no_grad()
def classify_files(spotter: KeywordSpotter, paths: list[Path], *, batch_size: int,
                   device: torch.device | str = "cpu") -> tuple[list[Path], torch.Tensor, list[dict[str, str]]]:
    """Posteriors of the centred window of every readable file, read one batch at a time.

    Returns:
        ``(readable, posteriors, errors)``: the files read, their posteriors on the CPU, and
        ``{"path", "error"}`` of each file that could not be read.

    Shape:
        Output: posteriors (N, K).
    """
    spotter.eval().to(device)
    readable, posteriors, errors = [], [torch.zeros(0, len(spotter.labels))], []
    for paths_read, batch, failed in windows(spotter, paths, batch_size):
        if paths_read:
            posteriors.append(spotter(batch.to(device))[..., 0].softmax(-1).float().cpu())  # (B, K, 1) -> (B, K)
        readable += paths_read
        errors += failed
    return readable, torch.cat(posteriors), errors


def evaluate_audio_dir(spotter: KeywordSpotter, audio_dir: str | Path, *, batch_size: int,
                       device: torch.device | str = "cpu") -> dict[str, Any]:
    """Classify every sound file under a folder; score those in ``<label>/`` subfolders (see the module docstring).

    Returns:
        ``accuracy`` and ``n`` (the scored files), ``n_scored`` (the same count), ``classes`` (the classes
        scored over), ``per_class`` (accuracy and count of each true class), ``confusion`` (counts, rows the
        true class, columns the predicted one, both in ``classes`` order), ``folders_as_unknown`` and
        ``predictions_as_unknown`` (the folder labels and model keywords that count as ``_unknown_``, with
        their file counts), ``files`` (every file read, with its label and prediction), ``errors`` (files
        that could not be read, by path: never skipped silently) and ``seconds`` (reading and scoring).

    Raises:
        AudioError: ``audio_dir`` is not a folder or holds no sound file.
    """
    started = time.perf_counter()
    audio_dir = Path(audio_dir)
    if not audio_dir.is_dir():
        raise AudioError(f"audio_dir={audio_dir}: not a folder (a folder of <label>/<file> sound files is expected)")
    readable, posteriors, errors = classify_files(spotter, audio_files(audio_dir), batch_size=batch_size,
                                                  device=device)
    labels = [folder_label(path, audio_dir) for path in readable]
    classes = scored_classes(spotter.labels, {label for label in labels if label is not None})
    best = posteriors.argmax(-1).tolist() if readable else []
    files = [{"path": str(path), "label": label, "predicted": spotter.labels[k], "score": float(scores[k])}
             for path, label, k, scores in zip(readable, labels, best, posteriors)]
    scored = [file for file in files if file["label"] is not None]
    targets = torch.tensor([as_class(file["label"], classes) for file in scored], dtype=torch.long)
    predictions = torch.tensor([as_class(file["predicted"], classes) for file in scored], dtype=torch.long)
    report = classification_report(predictions, targets, classes)
    del report["per_engine"]  # recorded clips have no synthesis engine
    folders = {label_folder(name) for name in classes}
    return {**report, "n_scored": report["n"], "classes": classes,
            "folders_as_unknown": dict(Counter(f["label"] for f in scored if label_folder(f["label"]) not in folders)),
            "predictions_as_unknown": dict(Counter(f["predicted"] for f in scored if f["predicted"] not in classes)),
            "files": files, "errors": errors, "seconds": time.perf_counter() - started}


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_folder_report(report: dict[str, Any], audio_dir: str | Path) -> str:
    """Lines for the terminal: accuracy, then the confusion matrix (rows: true class) with each class's accuracy."""
    classes = report["classes"]
    lines = [f"{audio_dir}: accuracy {percent(report['accuracy'])} over {len(classes)} classes, {report['n']} "
             f"clips scored ({len(report['files']) - report['n']} outside a <label>/ folder, "
             f"{len(report['errors'])} unreadable), in {report['seconds']:.1f} s"]
    for kind, counts in (("folders", report["folders_as_unknown"]), ("predictions", report["predictions_as_unknown"])):
        if counts:
            lines.append(f"  {kind} counted as {UNKNOWN}: " + ", ".join(f"{k} ({n})" for k, n in counts.items()))
    width = max(CELL_WIDTH, *(len(name) + 1 for name in classes))
    lines.append(f"  {'true/pred':<{width}}" + "".join(f"{name:>{width}}" for name in classes)
                 + f"{'accuracy':>{width}}{'clips':>{width}}")
    for name, counts in zip(classes, report["confusion"]):
        own = report["per_class"][name]
        lines.append(f"  {name:<{width}}" + "".join(f"{count:>{width}}" for count in counts)
                     + f"{percent(own['accuracy']):>{width}}{own['n']:>{width}}")
    return "\n".join(lines)
