"""Keyword events from the microphone: ``python recipes/listen.py checkpoint=<path>``.

Prints one JSON object per event as it happens; status (device, overflows) goes to standard error.
Ctrl-C stops it cleanly.
"""

import sys

from omegaconf import DictConfig

from asr_cnn.detect.microphone import listen
from asr_cnn.recipes.errors import recipe


@recipe("listen")
def main(cfg: DictConfig) -> None:
    sys.exit(listen(cfg))

