"""Keyword events from the microphone: ``python recipes/listen.py checkpoint=<path>``.

Prints one JSON object per event as it happens; status (device, overflows) goes to standard error.
Ctrl-C stops it cleanly.
"""

import sys

import hydra
from omegaconf import DictConfig

from asr_cnn.config import CONF_DIR
from asr_cnn.detect.microphone import listen
from asr_cnn.recipes.errors import user_errors


@hydra.main(config_path=str(CONF_DIR), config_name="listen", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    sys.exit(listen(cfg))

