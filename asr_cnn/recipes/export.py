"""Export a spotter's streaming step to ONNX: ``python recipes/export.py checkpoint=<path> output=<file.onnx>``.

The graph takes one hop of samples and the state, and returns the posteriors of one window and the
next state; see :mod:`asr_cnn.detect.export` for how to start a stream (zero state, drop ``lag`` rows).
"""

from omegaconf import DictConfig

from asr_cnn.detect.export import export
from asr_cnn.recipes.errors import recipe


@recipe("export")
def main(cfg: DictConfig) -> None:
    print(export(cfg))

