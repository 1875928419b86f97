"""Wake-word metrics over long streams: ``python recipes/evaluate_stream.py checkpoint=<path> streams=<dir>``.

Prints hits, misses, false alarms, FRR at threshold 0.5 and at 1 false alarm per hour, and the threshold
for ``target_fa_per_hour`` (written into the checkpoint with ``write_threshold=true``); the DET curve PNG
and the full metrics JSON go to the run's output folder.
"""

import json

import hydra
from omegaconf import DictConfig

from asr_cnn.config import CONF_DIR
from asr_cnn.evaluation.wakeword import evaluate_streams
from asr_cnn.recipes.errors import user_errors


@hydra.main(config_path=str(CONF_DIR), config_name="evaluate_stream", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    metrics = evaluate_streams(cfg)
    print(json.dumps({key: value for key, value in metrics.items() if key != "det"}, indent=2))

