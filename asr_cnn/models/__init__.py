"""Keyword-spotting models: bodies built from asr_cnn.layers, assembled by KeywordSpotter."""

from asr_cnn.models.spotter import KeywordSpotter

__all__ = ["KeywordSpotter"]
