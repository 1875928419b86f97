"""Export a spotter's streaming step to ONNX: ``python recipes/export.py checkpoint=<path> output=<file.onnx>``.

The graph takes one hop of samples and the state, and returns the posteriors of one window and the
next state; see :mod:`asr_cnn.detect.export` for how to start a stream (zero state, drop ``lag`` rows).
"""

import hydra
from omegaconf import DictConfig

from asr_cnn.config import CONF_DIR
from asr_cnn.detect.export import export
from asr_cnn.recipes.errors import user_errors


@hydra.main(config_path=str(CONF_DIR), config_name="export", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    print(export(cfg))

