"""Combine trained models into one calibrated ensemble: ``python recipes/combine.py members=[a.pt,b.pt,c.pt]
[experiment=<the one they were trained with> data...=<its corpus>]``.

The members are ``speech_embedding_tdnn`` models with a frozen backbone (``experiment=pretrained``,
``wakewords``) trained with different ``trainer.seed``; the ensemble runs the backbone once and averages
their heads' posteriors. Its thresholds are calibrated on the validation streams of the corpus the data
settings name, as training calibrates one model. Writes ``model.pt`` in the Hydra run directory (or
``run_dir=...``); see :mod:`asr_cnn.training.ensemble`.
"""

from omegaconf import DictConfig

from asr_cnn.recipes.errors import recipe
from asr_cnn.training.ensemble import combine


@recipe("combine")
def main(cfg: DictConfig) -> None:
    combine(cfg)
