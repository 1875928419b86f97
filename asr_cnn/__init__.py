"""asr_cnn: keyword spotting with convolutional networks that stream exactly."""

from asr_cnn.models.spotter import KeywordSpotter

__all__ = ["KeywordSpotter"]
