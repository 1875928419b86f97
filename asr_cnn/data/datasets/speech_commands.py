"""A torch Dataset over the Speech Commands layout: corpora built here, or the real thing.

The real Speech Commands v2 (Warden, 2018; CC BY 4.0) is published by Google at
https://storage.googleapis.com/download.tensorflow.org/data/speech_commands_v0.02.tar.gz
(documentation only: nothing in asr_cnn downloads it). Unpack it into a folder and pass that folder as
``root``: ``<word>/<speaker>_nohash_<n>.wav``, ``validation_list.txt`` and ``testing_list.txt`` define the
splits (the rest is train), and ``_background_noise_/`` supplies the ``_silence_`` clips, cut at seeded
positions. A folder with a ``manifest.csv`` (built by :func:`asr_cnn.data.corpus.build.build_corpus`) is read
from the manifest instead, which also names the held-out ``test_engine`` split.

Features are never computed here: items are 1-s waveforms (longer when a model's window is: the clip
then ends the item, after a lead-in of silence or speech), and the model's front end does the rest.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence
from pathlib import Path

import soundfile as sf
import torch

from asr_cnn.audio import load_audio
from asr_cnn.constants import CLIP_SAMPLES
from asr_cnn.data.acoustics.augment import WaveAugment
from asr_cnn.data.acoustics.clips import fit
from asr_cnn.data.corpus.background import NOISE_DIR
from asr_cnn.data.corpus.cache import seed_of
from asr_cnn.data.corpus.config import HELD_OUT_SPLIT, SPLITS, CorpusError
from asr_cnn.data.corpus.labels import SILENCE, UNKNOWN
from asr_cnn.data.corpus.manifest import MANIFEST_FILE, SPLIT_LISTS, UNKNOWN_SOURCE, Record, read_manifest
from asr_cnn.data.corpus.plan import NOISE_ENGINE
from asr_cnn.data.datasets.epochs import EpochSeeded
from asr_cnn.data.datasets.negatives import WindowSources

ALL_SPLITS = (*SPLITS, HELD_OUT_SPLIT)


class SpeechCommands(EpochSeeded):
    """Clips of one split as ``(wave, label_index)``.

    Args:
        root: The corpus folder.
        split: ``train``, ``validation``, ``test`` or ``test_engine`` (empty for real Speech Commands).
        labels: Class labels, e.g. from :func:`asr_cnn.data.corpus.labels.make_labels`; must contain ``_silence_``
            and ``_unknown_``. Words not in ``labels`` count as ``_unknown_``.
        augment: Applied to every item when given (the train split), seeded per item and epoch.
        seed: Seeds augmentation, silence cutting and unknown subsampling.
        silence_fraction: Real Speech Commands only: silence clips per split, as a fraction of its clips.
        unknown_fraction: Keep at most this many ``_unknown_`` clips per keyword clip (seeded sample);
            ``None`` keeps all. Real Speech Commands has many more unknown than keyword clips.
        samples: Samples per item, at least one clip (:func:`asr_cnn.data.datasets.windows.item_samples`): a longer
            item is a lead-in and then the clip; silence items are that much noise.
        lead: Keyword-free audio the lead-in of a longer item may come from (the end of a random window).
        lead_speech: Share of longer items whose lead-in comes from ``lead``; the others lead in with
            silence, as a wake word follows a pause. Were every clip to follow silence, a model would
            learn that a window starting with silence ends with a clip (and so, often, a keyword).

    Attributes:
        records: One :class:`Record` per item (path, label, engine, voice, split, ...).
        skipped: ``"<path>: <reason>"`` for each unreadable file left out (also warned about).

    Raises:
        FileNotFoundError: ``root`` or a split list is missing, or none of the split's clips is readable.
        ValueError: Bad ``split`` or ``labels``; a malformed manifest.
    """

    def __init__(self, root: str | Path, split: str, labels: Sequence[str], *, augment: WaveAugment | None = None,
                 seed: int = 0, silence_fraction: float = 0.1, unknown_fraction: float | None = None,
                 samples: int = CLIP_SAMPLES, lead: WindowSources | None = None, lead_speech: float = 0.0) -> None:
        self.root, self.split, self.labels = Path(root), split, list(labels)
        if samples < CLIP_SAMPLES:
            raise ValueError(f"items hold at least one clip ({CLIP_SAMPLES} samples), got samples={samples}")
        if not 0 <= lead_speech <= 1 or (lead_speech > 0 and lead is None):
            raise ValueError(f"lead_speech must be in [0, 1], and above 0 only with lead audio; got {lead_speech}")
        if lead is not None and lead.window < samples - CLIP_SAMPLES:
            raise ValueError(f"lead windows ({lead.window} samples) are shorter than the lead-in "
                             f"({samples - CLIP_SAMPLES})")
        self.samples, self.lead, self.lead_speech = samples, lead, lead_speech
        if split not in ALL_SPLITS:
            raise ValueError(f"split must be one of {ALL_SPLITS}, got {split!r}")
        if SILENCE not in self.labels or UNKNOWN not in self.labels or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be unique and contain {SILENCE!r} and {UNKNOWN!r}, got {self.labels}")
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root}: no such corpus folder")
        super().__init__(seed)
        self.augment = augment
        if (self.root / MANIFEST_FILE).is_file():
            records = [r for r in read_manifest(self.root) if r.split == split]
        else:
            records = _speech_commands(self.root, split, silence_fraction, seed)
        if unknown_fraction is not None:
            records = self._limit_unknown(records, unknown_fraction)
        self.records, self.skipped = _readable(records)
        if records and not self.records:  # a split that lists clips but has none is missing, not empty
            raise FileNotFoundError(f"{self.root} ({split}): none of its {len(records)} clips is readable, "
                                    f"e.g. {self.skipped[0]}")
        if self.skipped:
            warnings.warn(f"{self.root} ({split}): {len(self.skipped)} unreadable file(s) skipped:\n  "
                          + "\n  ".join(self.skipped), stacklevel=2)
        self.targets = [self.label_index(r.label) for r in self.records]
        self._noise: dict[Path, torch.Tensor] = {}

    def label_index(self, label: str) -> int:
        """Class index of a stored label: itself if in ``labels``, else ``_unknown_``."""
        if label in self.labels:
            return self.labels.index(label)
        return self.labels.index(UNKNOWN)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """One clip, padded or cropped to 1 s and preceded by its lead-in up to ``samples``, augmented
        when ``augment`` is set.

        Shape:
            Output: (samples,) float32 and an int label index.
        """
        record = self.records[index]
        generator = self.generator(index)
        if record.path.parent.name == NOISE_DIR:  # silence cut from a long noise file
            wave = self._noise_clip(record)
        else:
            wave = torch.cat([self._lead_in(generator), fit(load_audio(record.path))])  # (samples,)
        if self.augment is not None:
            wave = self.augment(wave, generator)
        return wave.float(), self.targets[index]

    def _lead_in(self, generator: torch.Generator) -> torch.Tensor:
        """What precedes a clip in an item: silence, or (a ``lead_speech`` share) the end of a ``lead`` window.

        Shape:
            Output: (samples - CLIP_SAMPLES,).
        """
        length = self.samples - CLIP_SAMPLES
        if length == 0 or self.lead_speech == 0 or float(torch.rand((), generator=generator)) >= self.lead_speech:
            return torch.zeros(length)
        window = self.lead.cut(self.lead.draw(generator))  # (lead.window,)
        return window[window.shape[0] - length:].float()

    def _noise_clip(self, record: Record) -> torch.Tensor:
        """``samples`` of a background noise file from ``record.start`` (repeated past its end), times ``record.gain``.

        Shape:
            Output: (samples,).
        """
        if record.path not in self._noise:
            self._noise[record.path] = load_audio(record.path)
        noise = self._noise[record.path]
        if record.start + self.samples > noise.shape[0]:  # a start drawn for a 1-s clip near the file's end
            noise = noise.repeat(2)
        return fit(noise[record.start:record.start + self.samples], self.samples) * record.gain

    def _limit_unknown(self, records: list[Record], fraction: float) -> list[Record]:
        """Keep all but a seeded sample of at most ``fraction`` unknown clips per keyword clip."""
        unknown_index = self.labels.index(UNKNOWN)
        kinds = [r.label != SILENCE and self.label_index(r.label) == unknown_index for r in records]
        keywords = sum(r.label != SILENCE and not is_unknown for r, is_unknown in zip(records, kinds))
        unknown = [i for i, is_unknown in enumerate(kinds) if is_unknown]
        rng = random.Random(seed_of(self.seed, self.split, UNKNOWN))
        keep = set(rng.sample(unknown, min(len(unknown), math.ceil(fraction * keywords))))
        return [r for i, (r, is_unknown) in enumerate(zip(records, kinds)) if not is_unknown or i in keep]


def _speech_commands(root: Path, split: str, silence_fraction: float, seed: int) -> list[Record]:
    """Records of a folder without manifest, split as Google's lists say, plus cut silence."""
    lists = {}
    for name, file in SPLIT_LISTS.items():
        path = root / file
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; a Speech Commands folder needs {list(SPLIT_LISTS.values())}")
        lists[name] = {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    if split == HELD_OUT_SPLIT:
        return []
    records = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")):
        for wav in sorted(folder.glob("*.wav")):
            rel = wav.relative_to(root).as_posix()
            where = next((name for name, paths in lists.items() if rel in paths), "train")
            if where == split:
                records.append(Record(path=wav, label=folder.name, engine=UNKNOWN_SOURCE, voice=UNKNOWN_SOURCE,
                                      split=split, text=folder.name))
    return records + _silence(root, split, math.ceil(silence_fraction * len(records)), seed)


def _silence(root: Path, split: str, count: int, seed: int) -> list[Record]:
    """``count`` silence records, each a seeded 1-s stretch of a background noise file at a seeded gain."""
    noises = []
    for path in sorted((root / NOISE_DIR).glob("*.wav")):
        try:
            frames = sf.info(str(path)).frames
        except (sf.LibsndfileError, RuntimeError) as err:
            warnings.warn(f"{path}: unreadable background noise skipped ({err})", stacklevel=3)
            continue
        if frames >= CLIP_SAMPLES:
            noises.append((path, frames))
    if count and not noises:
        raise CorpusError(f"{root / NOISE_DIR}: no readable noise file of at least 1 s for {SILENCE} clips")
    rng = random.Random(seed_of(seed, split, SILENCE))
    records = []
    for _ in range(count):
        path, frames = rng.choice(noises)
        records.append(Record(path=path, label=SILENCE, engine=NOISE_ENGINE, voice=path.stem, split=split,
                              start=rng.randrange(frames - CLIP_SAMPLES + 1), gain=rng.random()))
    return records


def _readable(records: list[Record]) -> tuple[list[Record], list[str]]:
    """Records whose file has a readable, non-empty audio header, and the others named with the reason."""
    verdicts: dict[Path, str | None] = {}
    for path in {r.path for r in records}:
        try:
            verdicts[path] = None if sf.info(str(path)).frames > 0 else "no samples"
        except (sf.LibsndfileError, RuntimeError, OSError) as err:
            verdicts[path] = f"not readable audio ({err})" if path.exists() else "missing"
    skipped = sorted(f"{p}: {why}" for p, why in verdicts.items() if why)
    return [r for r in records if verdicts[r.path] is None], skipped
