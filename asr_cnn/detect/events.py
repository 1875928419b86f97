"""Event: one keyword detection in one stream, with its JSON form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

TIME_DECIMALS = 3
"""Event times are multiples of the scan hop; milliseconds print them exactly without float noise."""

SCORE_DECIMALS = 4
"""Smoothed posteriors in JSON: enough to compare against thresholds given to two decimals."""


@dataclass(frozen=True)
class Event:
    """A keyword detected in one stream.

    Attributes:
        keyword: The label that fired.
        start_s: Start of the detecting window, in seconds of stream time (since the stream's start).
        end_s: End of that window: the moment the detector had heard enough to fire.
        score: The smoothed posterior that crossed the keyword's threshold.
        model: The model that fired, when a detector runs several (``None`` when it runs one).
    """

    keyword: str
    start_s: float
    end_s: float
    score: float
    model: str | None = None

    def to_dict(self, **fields: Any) -> dict[str, Any]:
        """Plain dict with rounded numbers; ``fields`` (e.g. ``file=...``) come first, then the model if any."""
        event = asdict(self)
        model = event.pop("model")
        event["start_s"] = round(self.start_s, TIME_DECIMALS)
        event["end_s"] = round(self.end_s, TIME_DECIMALS)
        event["score"] = round(self.score, SCORE_DECIMALS)
        return {**fields, **({} if model is None else {"model": model}), **event}

    def to_json(self, **fields: Any) -> str:
        """One line of JSON, e.g. ``{"file": "a.wav", "keyword": "yes", "start_s": 1.2, ...}`` (with
        ``"model": "wake.pt"`` after the fields when a detector runs several models)."""
        return json.dumps(self.to_dict(**fields))
