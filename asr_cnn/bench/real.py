"""``python -m asr_cnn.bench real --wake <model.pt> --default <model.pt>``: the real-speech targets, met or not.

Runs :func:`asr_cnn.evaluation.real.evaluate_real` (thresholds as shipped) on a wake-word model and on
a model of the default keywords, and prints each figure beside its target:

* wake words (``athena, amelia, computer``): recall >= 90% at <= 1 false alarm per hour of real speech;
* the default keywords: <= 5 false alarms per hour of real speech.

The set is for evaluation only: nothing measured here is written into a checkpoint.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from asr_cnn.config import compose_config
from asr_cnn.evaluation.real import REAL_SET, evaluate_real

WAKE_RECALL, WAKE_FA_PER_HOUR, DEFAULT_FA_PER_HOUR = 0.90, 1.0, 5.0


def shipped(checkpoint: Path, real_set: Path, output: Path) -> dict:
    """The as-shipped operating point of ``checkpoint`` on ``real_set``."""
    result = evaluate_real(compose_config("evaluate_real", [f"checkpoint={checkpoint}", f"set={real_set.resolve()}",
                                                            f"output_dir={output}"]))
    return result["operating_points"]["as_shipped"]


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench real", description=__doc__.splitlines()[0])
    parser.add_argument("--wake", type=Path, help="checkpoint of athena, amelia, computer")
    parser.add_argument("--default", type=Path, help="checkpoint of the default keywords")
    parser.add_argument("--set", type=Path, default=REAL_SET, help="folder with manifest.csv")
    args = parser.parse_args(argv)
    lines = []
    with tempfile.TemporaryDirectory() as scratch:
        if args.wake is not None:
            point = shipped(args.wake, args.set, Path(scratch) / "wake")
            recall, fa = point["recall"] or 0.0, point["fa_per_hour"]
            lines.append(f"wake words  {args.wake}: recall {100 * recall:.1f}% (target >= {100 * WAKE_RECALL:.0f}%) "
                         f"at {fa:.1f} false alarms per hour (target <= {WAKE_FA_PER_HOUR:g}): "
                         f"{verdict(recall >= WAKE_RECALL and fa <= WAKE_FA_PER_HOUR)}")
        if args.default is not None:
            fa = shipped(args.default, args.set, Path(scratch) / "default")["fa_per_hour"]
            lines.append(f"default     {args.default}: {fa:.1f} false alarms per hour (target <= "
                         f"{DEFAULT_FA_PER_HOUR:g}): {verdict(fa <= DEFAULT_FA_PER_HOUR)}")
    print("\n".join(["", "targets on real speech, thresholds as shipped:", *lines] if lines else
                     ["nothing to measure: give --wake and/or --default"]))
    return 0
