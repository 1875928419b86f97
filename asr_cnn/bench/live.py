"""``python -m asr_cnn.bench live --checkpoint <model.pt> --corpus <data/name>``: false alarms a live detector raises.

A development check of training for live streams, on material that neither training nor calibration
used: the shipped real read speech of the held-out (test) speakers, and the corpus's synthetic test
streams (voices never trained on). Also the validation streams the thresholds were calibrated on, for
comparison. Prints recall and false alarms per hour with the checkpoint's thresholds (as shipped) and
with every keyword at 0.5, and writes nothing. ``../shared/realspeech`` is not read here: it is measured
by ``recipes/evaluate_real.py``, never used to choose anything.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from asr_cnn import KeywordSpotter
from asr_cnn.data.corpus.realnegatives import load_split, real_negatives, unsafe_keywords
from asr_cnn.data.corpus.streams import stream_folder
from asr_cnn.detect import Detector
from asr_cnn.evaluation.calibration import score_validation
from asr_cnn.evaluation.operating import OperatingPoint
from asr_cnn.evaluation.scoring import Scored
from asr_cnn.evaluation.sweep import point_at
from asr_cnn.threads import torch_threads

REAL_SPLITS = {"train": 0.6, "validation": 0.2, "test": 0.2}
"""The division of the shipped real speech by speaker (``data.real_negatives.splits`` of the default corpus)."""


def report(name: str, scored: Scored) -> str:
    """One line: recall and false alarms per hour as shipped and at 0.5."""
    shipped = point_at(scored)
    never = torch.isinf(scored.thresholds)  # (K,) _silence_ and _unknown_ never fire
    half = point_at(scored, thresholds=scored.thresholds.masked_fill(~never, 0.5))

    def recall(point: OperatingPoint) -> str:
        return "-" if point.recall is None else f"{100 * point.recall:.1f}%"

    return (f"{name:<34} {scored.hours:6.2f} h | as shipped: recall {recall(shipped):>6}, "
            f"{shipped.fa_per_hour:7.1f} FA/h | at 0.5: recall {recall(half):>6}, {half.fa_per_hour:7.1f} FA/h")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench live", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--corpus", type=Path, help="corpus folder with streams/ and validation_streams/")
    parser.add_argument("--seed", type=int, default=0, help="the corpus seed (divides the real speakers)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    spotter = KeywordSpotter.load(args.checkpoint)
    detector = Detector(spotter)
    keywords = list(detector.thresholds)
    print(f"{args.checkpoint}: thresholds {spotter.extra.get('thresholds', 'none (0.5)')}")
    with torch_threads(args.threads):
        if unsafe_keywords(keywords):
            print(f"real speech: skipped, {unsafe_keywords(keywords)} may be said in it")
        else:
            speech = load_split(real_negatives(REAL_SPLITS, args.seed), "test")
            print(report("real speech, held-out speakers", score_validation(detector, [], speech)))
        for split in ("validation", "test") if args.corpus else ():
            folder = stream_folder(args.corpus, split)
            if any(folder.glob("*.wav")):
                print(report(f"synthetic {split} streams", score_validation(detector, [folder])))
    return 0
