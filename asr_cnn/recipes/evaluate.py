"""Evaluate a checkpoint: ``python recipes/evaluate.py checkpoint=<model.pt> [split=test | audio_dir=<folder>]``.

``split`` names a corpus split (``train``, ``validation``, ``test``, ``test_engine``) or a list of them,
read from ``data.root``; ``audio_dir`` classifies every sound file under a folder instead (``.wav``, ``.flac``,
``.opus``, ...) and scores the files that sit in a ``<label>/`` subfolder over the folder's classes: 12 on
``../shared/speech_commands_v2_test`` (see :mod:`asr_cnn.evaluation.folder`), printed with the confusion
matrix. Results go to the log and to ``evaluation.json`` in the run directory.
"""

from omegaconf import DictConfig

from asr_cnn.evaluation.clips import evaluate
from asr_cnn.recipes.errors import recipe


@recipe("evaluate")
def main(cfg: DictConfig) -> None:
    evaluate(cfg)

