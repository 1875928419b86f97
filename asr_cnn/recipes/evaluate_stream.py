"""Wake-word metrics over long streams: ``python recipes/evaluate_stream.py checkpoint=<path> streams=<dir>``.

Prints hits, misses, false alarms, FRR at threshold 0.5 and at 1 false alarm per hour, and the threshold
for ``target_fa_per_hour`` (written into the checkpoint with ``write_threshold=true``); the DET curve PNG
and the full metrics JSON go to the run's output folder.
"""

import json

from omegaconf import DictConfig

from asr_cnn.evaluation.wakeword import evaluate_streams
from asr_cnn.recipes.errors import recipe


@recipe("evaluate_stream")
def main(cfg: DictConfig) -> None:
    metrics = evaluate_streams(cfg)
    print(json.dumps({key: value for key, value in metrics.items() if key != "det"}, indent=2))

