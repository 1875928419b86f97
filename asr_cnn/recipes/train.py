"""Train a keyword spotter: ``python recipes/train.py [experiment=<name>] [key=value ...]``.

Writes the Hydra run directory (``outputs/<date>/<time>/`` unless ``hydra.run.dir=...``): ``model.pt``,
the resume checkpoint ``last.ckpt``, ``metrics.json``, PNG plots, TensorBoard events, the model summary
and ``report.md``. Run it again with the same ``hydra.run.dir`` to resume a killed run. Sweeps:
``python recipes/train.py -m model=tdnn,res8``. Several processes or GPUs:
``torchrun --nproc_per_node=2 recipes/train.py``.
"""

from omegaconf import DictConfig

from asr_cnn.recipes.errors import recipe
from asr_cnn.training.loop import train


@recipe("train")
def main(cfg: DictConfig) -> float | None:
    """Train; return the voice-held-out test accuracy (the value a Hydra sweeper would optimise)."""
    result = train(cfg)
    metrics = result.get("metrics")
    return metrics["splits"]["test"]["accuracy"] if metrics and "test" in metrics["splits"] else None

