"""``python -m asr_cnn.bench calibration_tail --checkpoint <model.pt> [--split validation] [--top 3] [key=value ...]``:
how far each shipped threshold sits above the real speech it was calibrated on.

Scores the shipped real speech of a split (the calibration's ``validation`` speakers by default; ``test`` is
the held-out check) with the detector as shipped, as the calibration scores it, and prints per keyword its
threshold, the highest smoothed score any utterance that may count its false alarms reaches, how many reach
the threshold, and the utterances with the highest scores. A threshold above every score seen is the tail
fit's extrapolation: the keyword's share of the target is less than one event in that speech.

``key=value`` overrides compose ``conf/train.yaml`` for the split of the real speakers (``data.seed``,
``trainer.live.real_speech.*``): give the ones the model was trained with.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from asr_cnn.audio import load_audios
from asr_cnn.config import compose_config
from asr_cnn.data.corpus.config import SPLITS, corpus_config
from asr_cnn.data.datasets.real import RealSpeechConfig, real_items
from asr_cnn.detect import Detector
from asr_cnn.evaluation.real_calibration import STREAMS, score_real, utterance_rows
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.schema import typed


def highest(checkpoint: Path, split: str, overrides: list[str]
            ) -> tuple[dict[str, float], dict[str, list[tuple[float, str, str]]]]:
    """The shipped thresholds of ``checkpoint`` and, per keyword, ``(highest smoothed score, transcript, speaker)``
    of every utterance of ``split`` that may count its false alarms, highest first (the detector as shipped)."""
    cfg = compose_config("train", ["run_dir=unused", *overrides])
    real = typed(RealSpeechConfig, cfg.trainer.live.real_speech, "trainer.live.real_speech")
    detector = Detector(KeywordSpotter.load(checkpoint), batch_size=STREAMS)
    items, excluded = real_items(corpus_config(cfg.data), real, split, list(detector.thresholds))
    speech = score_real(detector, load_audios([item.path for item in items]), excluded)
    scores = speech.scored.scores.nan_to_num(0.0)  # (B, N, K); NaN past a stream's end
    found = {}
    for keyword in detector.thresholds:
        column, skip = speech.scored.classes.index(keyword), set(speech.excluded[keyword])
        peaks = []
        for index, item in enumerate(items):
            if index not in skip:
                stream, first, past = utterance_rows(speech, index, speech.scored.smoothing_rows)
                peaks.append((float(scores[stream, first:past, column].max()), item.transcript or "", item.speaker))
        found[keyword] = sorted(peaks, reverse=True)
    return detector.thresholds, found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench calibration_tail",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--split", choices=SPLITS, default="validation", help="speakers of the shipped real speech")
    parser.add_argument("--top", type=int, default=3, help="utterances shown per keyword")
    args, overrides = parser.parse_known_args(argv)
    thresholds, found = highest(args.checkpoint, args.split, overrides)
    print(f"{'keyword':<16}{'threshold':>10}{'highest':>9}{'reaching':>10}{'utterances':>12}")
    for keyword, peaks in found.items():
        threshold = thresholds[keyword]
        top = peaks[0][0] if peaks else float("nan")
        reaching = sum(peak >= threshold for peak, _, _ in peaks)
        print(f"{keyword:<16}{threshold:>10.4g}{top:>9.3f}{reaching:>10d}{len(peaks):>12d}")
        for peak, transcript, speaker in peaks[:args.top]:
            print(f"{'':<4}{peak:.3f}  {speaker}: {transcript!r}")
    return 0
