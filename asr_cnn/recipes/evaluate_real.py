"""Real-speech evaluation: ``python recipes/evaluate_real.py checkpoint=<model.pt> set=<dir>``.

Prints recall per keyword and false alarms per hour of real speech with the checkpoint's own thresholds,
at threshold 0.5, and at 1 false alarm per hour swept on the set (an oracle, labelled so);
``real_eval.json`` and the DET PNG go to the run's output folder. ``positives=<dir> keyword=<word>``
measures a folder of your own recordings of one keyword instead of the set's wake words.
"""

from omegaconf import DictConfig

from asr_cnn.evaluation.real import evaluate_real
from asr_cnn.recipes.errors import recipe


@recipe("evaluate_real")
def main(cfg: DictConfig) -> None:
    evaluate_real(cfg)
