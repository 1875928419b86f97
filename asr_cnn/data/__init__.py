"""Data for keyword spotting, by concern: ``voices`` (engines and what they say), ``acoustics`` (rooms,
devices, noise, augmentation), ``corpus`` (a corpus built from text on disk, and the shipped real speech in
``assets``), ``datasets`` (torch datasets over it, and the training set). The names most callers need are
here."""

from asr_cnn.data.acoustics.augment import WaveAugment
from asr_cnn.data.acoustics.spec_augment import SpecAugment
from asr_cnn.data.corpus.build import BuildReport, build_corpus
from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN, make_labels
from asr_cnn.data.corpus.manifest import MANIFEST_COLUMNS, Record, read_manifest
from asr_cnn.data.corpus.streams import build_streams
from asr_cnn.data.datasets.speech_commands import SpeechCommands

__all__ = ["MANIFEST_COLUMNS", "SILENCE", "UNKNOWN", "BuildReport", "Record", "SpecAugment", "SpeechCommands",
           "WaveAugment", "build_corpus", "build_streams", "make_labels", "read_manifest"]
