"""Calibrate a trained model anew: ``python recipes/calibrate.py checkpoint=<model.pt>
[experiment=<the one it was trained with> data...=<its corpus>] run_dir=<dir>``.

Its thresholds spend ``trainer.live.target_fa_per_hour`` on real speech as training does today, and it gets
the operating curves that ``detector.fa_per_hour`` reads; the weights are unchanged. Writes ``model.pt``
and ``metrics.json`` (with the held-out real-speech check) in the run directory; see
:mod:`asr_cnn.training.calibrate`.
"""

import hydra
from omegaconf import DictConfig

from asr_cnn.config import CONF_DIR
from asr_cnn.recipes.errors import user_errors
from asr_cnn.training.calibrate import recalibrate


@hydra.main(config_path=str(CONF_DIR), config_name="calibrate", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    recalibrate(cfg)
