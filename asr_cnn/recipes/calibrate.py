"""Calibrate a trained model anew: ``python recipes/calibrate.py checkpoint=<model.pt>
[experiment=<the one it was trained with> data...=<its corpus>] run_dir=<dir>``.

Its thresholds spend ``trainer.live.target_fa_per_hour`` on real speech as training does today, and it gets
the operating curves that ``detector.fa_per_hour`` reads; the weights are unchanged. Writes ``model.pt``
and ``metrics.json`` (with the held-out real-speech check) in the run directory; see
:mod:`asr_cnn.training.calibrate`.
"""

from omegaconf import DictConfig

from asr_cnn.recipes.errors import recipe
from asr_cnn.training.calibrate import recalibrate


@recipe("calibrate")
def main(cfg: DictConfig) -> None:
    recalibrate(cfg)
