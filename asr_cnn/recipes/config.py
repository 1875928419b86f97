"""The schemas of the recipes' primary configs (``conf/<recipe>.yaml``): the keys each recipe reads beside its
config groups, typed; the values are in those files.

Each file lists its schema (``<recipe>_schema``) first in its defaults, so a mistyped value
(``block_seconds=abc``) fails while composing. ``conf/train.yaml`` (and ``calibrate`` and ``combine``, which
extend it) stays open: tests and tools add keys to it (``+labels=[...]``); its ``spotter`` has a schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING

from asr_cnn.detect.config import DetectorConfig
from asr_cnn.schema import flag, integer, number, positive, setting

CHECKPOINTS = "be a checkpoint path, or a list of them on one backbone"


@dataclass
class DetectRecipe:
    """``conf/detect.yaml``: :func:`~asr_cnn.detect.files.detect`."""

    detector: DetectorConfig = MISSING
    checkpoint: Any = setting(CHECKPOINTS)
    input: str = setting("be a sound file or a folder")
    block_seconds: float = positive()
    device: str = setting("be a torch device")
    threads: int | None = integer(1, optional=True)


@dataclass
class ListenRecipe:
    """``conf/listen.yaml``: :func:`~asr_cnn.detect.microphone.listen`."""

    detector: DetectorConfig = MISSING
    checkpoint: Any = setting(CHECKPOINTS)
    input_device: Any = setting("be a sound device's index or name (or null: the system default)")
    block_seconds: float = positive()
    seconds: float | None = number(0, optional=True)
    device: str = setting("be a torch device")
    threads: int | None = integer(1, optional=True)


@dataclass
class EvaluateStreamRecipe:
    """``conf/evaluate_stream.yaml``: :func:`~asr_cnn.evaluation.wakeword.evaluate_streams`."""

    detector: DetectorConfig = MISSING
    checkpoint: str = setting("be a checkpoint path")
    streams: str = setting("be a folder of streams")
    output_dir: str = setting("be a folder")
    target_fa_per_hour: float = number(0)
    write_threshold: bool = flag()
    block_seconds: float = positive()
    device: str = setting("be a torch device")
    threads: int | None = integer(1, optional=True)


@dataclass
class EvaluateRealRecipe:
    """``conf/evaluate_real.yaml``: :func:`~asr_cnn.evaluation.real.evaluate_real`."""

    detector: DetectorConfig = MISSING
    checkpoint: str = setting("be a checkpoint path")
    set: str | None = setting("be a folder with manifest.csv (or null)")
    positives: str | None = setting("be a folder of clips (or null)")
    keyword: str | None = setting("be the keyword the positives say (or null)")
    pause_s: float = number(0)
    padding_s: float = number(0)
    oracle_fa_per_hour: float = number(0)
    other_words: bool = flag()
    batch_size: int = integer(1)
    output_dir: str = setting("be a folder")
    device: str = setting("be a torch device")
    threads: int | None = integer(1, optional=True)


@dataclass
class EvaluateRecipe:
    """``conf/evaluate.yaml``: :func:`~asr_cnn.evaluation.clips.evaluate`."""

    data: Any = MISSING  # the corpus's config (conf/data), checked by its own schema
    checkpoint: str = setting("be a checkpoint path")
    split: Any = setting("be a split name or a list of them")
    audio_dir: str | None = setting("be a folder of <label>/<file> sound files (or null)")
    batch_size: int = integer(1)
    num_workers: int = integer(0)
    device: str = setting("be auto or a torch device")
    threads: int | None = integer(1, optional=True)
    run_dir: str = setting("be a folder")


@dataclass
class ExportRecipe:
    """``conf/export.yaml``: :func:`~asr_cnn.detect.export.export`."""

    checkpoint: str = setting("be a checkpoint path")
    output: str = setting("be an .onnx file")
    opset: int = integer(1)


@dataclass
class ReceptiveFieldRecipe:
    """``conf/receptive_field.yaml``: :func:`~asr_cnn.receptive_field.receptive_field`."""

    checkpoint: str = setting("be a checkpoint path")
    channel: int | None = integer(0, optional=True)
    steps: int = integer(1)
    lr: float = positive()
    l2: float = number(0)
    seed: int = integer(0)
    output: str | None = setting("be a PNG path (or null: next to the checkpoint)")


RECIPE_SCHEMAS: dict[str, type] = {
    "detect": DetectRecipe, "listen": ListenRecipe, "evaluate_stream": EvaluateStreamRecipe,
    "evaluate_real": EvaluateRealRecipe, "evaluate": EvaluateRecipe, "export": ExportRecipe,
    "receptive_field": ReceptiveFieldRecipe}
"""``conf/<recipe>.yaml`` -> its schema, stored as ``<recipe>_schema``."""
