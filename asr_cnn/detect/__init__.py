"""Streaming detection: keyword events from files, microphones and batches of streams."""

from asr_cnn.detect.detector import Detector
from asr_cnn.detect.events import Event

__all__ = ["Detector", "Event"]
