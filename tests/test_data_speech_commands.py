"""SpeechCommands on hand-made folders: the real Speech Commands layout, a manifest corpus, bad files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asr_cnn.constants import CLIP_SAMPLES, SAMPLE_RATE
from asr_cnn.data import SILENCE, UNKNOWN, SpeechCommands, make_labels
from asr_cnn.data.corpus.manifest import MANIFEST_COLUMNS
from asr_cnn.data.datasets.negatives import WindowSources

LABELS = make_labels(["yes", "no"])


def write_wav(path: Path, seconds: float = 1.0, value: float = 0.1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.full(int(seconds * SAMPLE_RATE), value, np.float32), SAMPLE_RATE, subtype="PCM_16")


@pytest.fixture
def google_folder(tmp_path) -> Path:
    """A miniature real Speech Commands v2 folder: word folders, two split lists, background noise."""
    for word in ("yes", "no", "bed"):
        for speaker in ("aaaa1111", "bbbb2222", "cccc3333"):
            for n in range(2):
                write_wav(tmp_path / word / f"{speaker}_nohash_{n}.wav", seconds=0.8 if word == "bed" else 1.0)
    write_wav(tmp_path / "_background_noise_" / "white_noise.wav", seconds=3.0, value=0.5)
    for name, speaker in (("validation_list.txt", "bbbb2222"), ("testing_list.txt", "cccc3333")):
        paths = [f"{word}/{speaker}_nohash_{n}.wav" for word in ("yes", "no", "bed") for n in range(2)]
        (tmp_path / name).write_text("".join(f"{p}\n" for p in paths))
    return tmp_path


def test_longer_items_are_silence_then_the_clip(google_folder):
    one = SpeechCommands(google_folder, "train", LABELS)
    long = SpeechCommands(google_folder, "train", LABELS, samples=2 * CLIP_SAMPLES + 7)
    for index, record in enumerate(long.records):
        wave, label = long[index]
        assert wave.shape == (2 * CLIP_SAMPLES + 7,) and label == one[index][1]
        if record.label == SILENCE:  # noise all along, the file repeated past its end when it must be
            assert wave.abs().min() > 0 or record.gain == 0
        else:  # a wake word follows a pause: the clip ends the item
            assert wave[:CLIP_SAMPLES + 7].abs().max() == 0
            assert torch.equal(wave[CLIP_SAMPLES + 7:], one[index][0])
    with pytest.raises(ValueError, match="at least one clip"):
        SpeechCommands(google_folder, "train", LABELS, samples=CLIP_SAMPLES - 1)


def test_a_share_of_longer_items_lead_in_with_running_speech(google_folder):
    """Clips after speech as well as after silence, so silence before a clip is no cue for a keyword."""
    lead_in = CLIP_SAMPLES // 2
    speech = WindowSources([torch.arange(1, 5 * SAMPLE_RATE + 1, dtype=torch.float32)], CLIP_SAMPLES + lead_in)
    one = SpeechCommands(google_folder, "train", LABELS)
    long = SpeechCommands(google_folder, "train", LABELS, samples=CLIP_SAMPLES + lead_in, lead=speech,
                          lead_speech=0.5)
    led = []
    for epoch in range(8):
        long.set_epoch(epoch)
        for index, record in enumerate(long.records):
            if record.label == SILENCE:
                continue
            wave, _ = long[index]
            assert torch.equal(wave[lead_in:], one[index][0])  # the clip ends the item, untouched
            head = wave[:lead_in]
            if head.abs().max() > 0:  # consecutive samples of the source, ending a window of it
                assert torch.equal(head, torch.arange(head[0], head[0] + lead_in, dtype=torch.float32))
            led.append(bool(head.abs().max() > 0))
    assert 0.3 < sum(led) / len(led) < 0.7
    assert torch.equal(long[0][0], long[0][0])  # seeded per epoch and item
    with pytest.raises(ValueError, match="lead_speech"):
        SpeechCommands(google_folder, "train", LABELS, samples=CLIP_SAMPLES + lead_in, lead_speech=0.5)
    with pytest.raises(ValueError, match="shorter than the lead-in"):
        SpeechCommands(google_folder, "train", LABELS, samples=3 * CLIP_SAMPLES, lead=speech, lead_speech=0.5)


def test_real_layout_splits_come_from_the_lists(google_folder):
    sets = {s: SpeechCommands(google_folder, s, LABELS) for s in ("train", "validation", "test", "test_engine")}
    assert len(sets["test_engine"]) == 0
    for split, speaker in (("train", "aaaa1111"), ("validation", "bbbb2222"), ("test", "cccc3333")):
        words = [r for r in sets[split].records if r.label != SILENCE]
        assert len(words) == 6 and all(r.path.name.startswith(speaker) for r in words)
        assert all(r.engine == "unknown" and r.voice == "unknown" and r.split == split for r in words)
        silence = [r for r in sets[split].records if r.label == SILENCE]
        assert len(silence) == math.ceil(0.1 * 6)


def test_items_are_one_second_with_words_outside_labels_unknown(google_folder):
    dataset = SpeechCommands(google_folder, "train", LABELS)
    for index, record in enumerate(dataset.records):
        wave, label = dataset[index]
        assert wave.shape == (CLIP_SAMPLES,) and wave.dtype == torch.float32
        expected = {"yes": 2, "no": 3, "bed": LABELS.index(UNKNOWN), SILENCE: 0}[record.label]
        assert label == expected
        if record.label == "bed":  # 0.8 s padded with zeros to 1 s
            assert wave[int(0.8 * SAMPLE_RATE):].abs().max() == 0
        if record.label == SILENCE:  # a stretch of the background noise at a gain in [0, 1]
            assert 0 <= float(wave.abs().max()) <= 0.5 + 1e-4


def test_corrupt_wav_is_skipped_counted_and_named(google_folder):
    bad = google_folder / "yes" / "aaaa1111_nohash_9.wav"
    bad.write_bytes(b"RIFF not really a wave file")
    with pytest.warns(UserWarning, match="1 unreadable file"):
        dataset = SpeechCommands(google_folder, "train", LABELS)
    assert len(dataset.skipped) == 1 and str(bad) in dataset.skipped[0]
    assert bad not in {r.path for r in dataset.records}


def test_unknown_fraction_limits_unknown_clips(google_folder):
    dataset = SpeechCommands(google_folder, "train", make_labels(["yes"]), unknown_fraction=0.5)
    unknown = [r for r in dataset.records if r.label in ("no", "bed")]
    assert len(unknown) == 1  # half of the 2 "yes" clips


def test_manifest_corpus_with_a_corrupt_file(tmp_path):
    rows = [("yes/a_nohash_0.wav", "yes", "espeak", "en+m1", "train"),
            ("_unknown_/a_nohash_1.wav", UNKNOWN, "espeak", "en+m1", "train"),
            ("yes/b_nohash_0.wav", "yes", "piper", "joe", "test_engine"),
            ("no/a_nohash_2.wav", "no", "espeak", "en+m1", "train")]
    for rel, *_ in rows[:3]:
        write_wav(tmp_path / rel)
    (tmp_path / "no").mkdir()
    (tmp_path / "no" / "a_nohash_2.wav").write_bytes(b"\x00" * 100)
    lines = [",".join(MANIFEST_COLUMNS)] + [f"{p},{lab},{lab},{e},{v},1,1,{s}" for p, lab, e, v, s in rows]
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match="no/a_nohash_2.wav"):
        train = SpeechCommands(tmp_path, "train", LABELS)
    assert [r.label for r in train.records] == ["yes", UNKNOWN] and len(train.skipped) == 1
    held = SpeechCommands(tmp_path, "test_engine", LABELS)
    assert [(r.engine, r.voice) for r in held.records] == [("piper", "joe")]
    (tmp_path / "yes" / "b_nohash_0.wav").unlink()  # the split's only clip: the split is missing, not empty
    with pytest.raises(FileNotFoundError, match=r"\(test_engine\): none of its 1 clips .*yes/b_nohash_0.wav: missing"):
        SpeechCommands(tmp_path, "test_engine", LABELS)


def test_bad_arguments_are_named(google_folder, tmp_path):
    with pytest.raises(ValueError, match="split"):
        SpeechCommands(google_folder, "dev", LABELS)
    with pytest.raises(ValueError, match="_unknown_"):
        SpeechCommands(google_folder, "train", ["_silence_", "yes"])
    with pytest.raises(FileNotFoundError, match="nowhere"):
        SpeechCommands(tmp_path / "nowhere", "train", LABELS)
    (google_folder / "testing_list.txt").unlink()
    with pytest.raises(FileNotFoundError, match="testing_list.txt"):
        SpeechCommands(google_folder, "train", LABELS)
