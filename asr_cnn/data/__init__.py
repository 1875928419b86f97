"""Datasets and corpora: offline keyword corpora synthesized from text, the Speech Commands loader,
augmentation, and long test streams."""

from asr_cnn.data.augment import WaveAugment
from asr_cnn.data.corpus import BuildReport, build_corpus
from asr_cnn.data.labels import SILENCE, UNKNOWN, make_labels
from asr_cnn.data.manifest import MANIFEST_COLUMNS, Record, read_manifest
from asr_cnn.data.spec_augment import SpecAugment
from asr_cnn.data.speech_commands import SpeechCommands
from asr_cnn.data.streams import build_streams

__all__ = ["MANIFEST_COLUMNS", "SILENCE", "UNKNOWN", "BuildReport", "Record", "SpecAugment", "SpeechCommands",
           "WaveAugment", "build_corpus", "build_streams", "make_labels", "read_manifest"]
