"""Keyword events from the microphone: ``python recipes/listen.py checkpoint=<path>``.

Prints one JSON object per event as it happens; status (device, overflows) goes to standard error.
Ctrl-C stops it cleanly.
"""

import sys

import hydra
from omegaconf import DictConfig

from asr_cnn.detect.microphone import listen


@hydra.main(config_path="../conf", config_name="listen", version_base="1.3")
def main(cfg: DictConfig) -> None:
    sys.exit(listen(cfg))


if __name__ == "__main__":
    main()
