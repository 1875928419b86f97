"""Scan sound files for keywords: ``python recipes/detect.py checkpoint=<path> input=<wav or folder>``.

Prints one JSON object per event, per file, e.g.
``{"file": "a.wav", "keyword": "yes", "start_s": 3.2, "end_s": 4.2, "score": 0.93}``.
"""

import sys

from omegaconf import DictConfig

from asr_cnn.detect.files import detect
from asr_cnn.recipes.errors import recipe


@recipe("detect")
def main(cfg: DictConfig) -> None:
    sys.exit(detect(cfg))

