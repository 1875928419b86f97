"""Training for live streams: what the loop adds to the clips so that a model stops firing on speech.

* the training set (:mod:`asr_cnn.data.datasets.training_set`): clips, random windows of keyword-free
  running speech (and of the shipped real read speech when the keywords allow it), keywords in context
  with end-aligned labels, mined hard negatives;
* mining rounds, evenly spaced through training (:mod:`asr_cnn.training.mining`);
* checkpoint selection on validation streams by recall at the calibrated false-alarm target, then
  false alarms per hour (not clip accuracy);
* the calibration the checkpoint ships, its false alarms counted on real speech (the shipped real speech's
  validation speakers), and a check of it on the real speech held out (its test speakers).

Settings: ``trainer.live`` (:class:`~asr_cnn.training.config.LiveConfig`, values in ``conf/trainer/default.yaml``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from asr_cnn.data.corpus.config import CorpusConfig
from asr_cnn.data.corpus.streams import stream_folder
from asr_cnn.data.datasets.real import real_material
from asr_cnn.detect.detector import DEFAULT_REFRACTORY_S, Detector, rows_for
from asr_cnn.evaluation.calibration import Calibration, calibrate_smoothing, merit, score_validation
from asr_cnn.evaluation.real_calibration import STREAMS, calibrate_real, real_false_alarms, score_real
from asr_cnn.evaluation.scoring import Scored
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.training.config import LiveConfig

def mining_epochs(max_epochs: int, rounds: int) -> list[int]:
    """Epochs after which mining runs: ``rounds`` evenly spaced, the last well before the end."""
    return sorted({max_epochs * (r + 1) // (rounds + 1) for r in range(rounds)} - {0, max_epochs})


def validation_folder(root: Path) -> Path | None:
    """The validation streams folder of the corpus at ``root``, or ``None`` when it holds no stream."""
    folder = stream_folder(Path(root), "validation")
    return folder if any(folder.glob("*.wav")) else None


def validation_calibration(root: Path, live: LiveConfig, spotter: KeywordSpotter, device: torch.device,
                           cached: Callable[[Detector], Scored] | None = None) -> Calibration | None:
    """Calibrate ``spotter`` on the validation streams of the corpus at ``root``; ``None`` without them.

    The streams hold the validation split's voices, running speech, noise and (when the keywords allow
    it) its real speakers' read speech. They are scored once without smoothing, and the thresholds and
    the moving-average span come from :func:`~asr_cnn.evaluation.calibration.calibrate_smoothing` over
    ``live.smoothing_s``. ``cached`` scores them from cached features instead of audio
    (:meth:`~asr_cnn.training.cached_validation.CachedValidation.scored`).
    """
    folder = validation_folder(root)
    if folder is None:
        return None
    # The library's refractory period, not that of an earlier calibration this spotter may carry (a resumed run's).
    detector = Detector(spotter, smoothing_s=0.0, refractory_s=DEFAULT_REFRACTORY_S, device=device)  # one row: raw
    scored = cached(detector) if cached is not None else score_validation(detector, [folder])
    spans = [rows_for(seconds, spotter) for seconds in live.smoothing_s]
    return calibrate_smoothing(scored, live.target_fa_per_hour, live.tail_events, spans)


def shipped_calibration(corpus: CorpusConfig, live: LiveConfig, spotter: KeywordSpotter, device: torch.device,
                        selected: Calibration | None = None, cached: Callable[[Detector], Scored] | None = None
                        ) -> Calibration | None:
    """The calibration a trained model ships with; ``None`` when ``corpus`` has no validation streams.

    With ``live.real_speech.calibrate``, each keyword's threshold spends its share of
    ``live.target_fa_per_hour`` on the shipped real speech's validation speakers, and the smoothing
    span is the one whose thresholds detect the most keywords of the validation streams
    (:func:`~asr_cnn.evaluation.real_calibration.calibrate_real`). Otherwise the validation streams'
    calibration: ``selected`` (made when the checkpoint was chosen) or a new one. ``cached`` scores the
    validation streams from cached features (as for :func:`validation_calibration`).
    """
    if not live.real_speech.calibrate:
        return selected or validation_calibration(corpus.root, live, spotter, device, cached)
    folder = validation_folder(corpus.root)
    if folder is None:
        return None
    raw = functools.partial(Detector, spotter, smoothing_s=0.0, refractory_s=DEFAULT_REFRACTORY_S, device=device)
    real = score_real(raw(batch_size=STREAMS),
                      *real_material(corpus, live.real_speech, "validation", list(raw().thresholds)))
    spans = [rows_for(seconds, spotter) for seconds in live.smoothing_s]
    validation = cached(raw()) if cached is not None else score_validation(raw(), [folder])
    return calibrate_real(real, validation, live.target_fa_per_hour, live.tail_events, spans)


def real_heldout_check(corpus: CorpusConfig, live: LiveConfig, spotter: KeywordSpotter, device: torch.device
                       ) -> dict[str, Any] | None:
    """False alarms per hour, thresholds as shipped, on the shipped real speech held out from training and
    calibration (its test speakers), beside the target; ``None`` without such speech.

    The model's rate is the sum of its keywords' rates, each counted on the utterances that do not say it.
    """
    detector = Detector(spotter, batch_size=STREAMS, device=device)
    waves, excluded = real_material(corpus, live.real_speech, "test", list(detector.thresholds))
    if not waves:
        return None
    per_keyword = real_false_alarms(score_real(detector, waves, excluded), detector.thresholds)
    return {"target_fa_per_hour": live.target_fa_per_hour,
            "fa_per_hour": sum(counted["fa_per_hour"] for counted in per_keyword.values()),
            "hours": max(counted["hours"] for counted in per_keyword.values()), "per_keyword": per_keyword}


def better(candidate: Calibration, best: Mapping[str, float] | None) -> bool:
    """Whether a checkpoint's validation result beats the best so far: more recall, then fewer false alarms."""
    return best is None or merit(candidate) > (best["recall"], -best["fa_per_hour"])
