"""Corpus building on the tiny config: layout, manifest, honest splits, determinism, cache, streams,
the loader on the result, and every bad input."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
import soundfile as sf
import torch

from asr_cnn.audio import load_audio
from asr_cnn.config import compose_config
from asr_cnn.constants import CLIP_SAMPLES, SAMPLE_RATE
from asr_cnn.data import MANIFEST_COLUMNS, SpeechCommands, WaveAugment, build_corpus, build_streams, make_labels
from asr_cnn.data.acoustics.clips import trim_silence
from asr_cnn.data.corpus.config import CorpusError, corpus_config
from asr_cnn.data.corpus.running import RUNNING_DIR, running_jobs
from asr_cnn.data.corpus.streams import KEYWORD_MARGIN_S
from asr_cnn.data.voices.engines import EngineError, EngineUnavailable, Unpronounceable
from asr_cnn.data.voices.engines.espeak import EspeakEngine
from asr_cnn.data.voices.engines.piper import PiperEngine
from asr_cnn.data.voices.sentences import build_lexicon

TINY_KEYWORDS = ["yes", "no", "stop"]
ESPEAK_ONLY = ["~data.engines.piper", "data.held_out=espeak:en"]  # holds out a voice family instead
RATES = {"train": 0.0, "validation": 0.0, "test": 0.0}


def tiny_config(root: Path, *overrides: str):
    return compose_config("make_data", ["data=tiny", f"data.root={root}", *overrides]).data


def manifest_rows(root: Path) -> list[dict[str, str]]:
    with open(root / "manifest.csv", newline="") as file:
        return list(csv.DictReader(file))


def file_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny") / "corpus"
    return tiny_config(root), build_corpus(tiny_config(root))


@pytest.mark.slow
def test_layout_and_manifest_columns(tiny):
    _, report = tiny
    root = report.root
    with open(root / "manifest.csv", newline="") as file:
        assert tuple(next(csv.reader(file))) == MANIFEST_COLUMNS
    rows = manifest_rows(root)
    assert {r["label"] for r in rows} == {"_silence_", "_unknown_", *TINY_KEYWORDS}
    for row in rows:
        info = sf.info(str(root / row["path"]))
        assert (info.samplerate, info.channels, info.frames) == (SAMPLE_RATE, 1, CLIP_SAMPLES)
        assert row["path"].split("/")[0] == row["label"]
    listed = {p.relative_to(root).as_posix() for p in root.glob("*/*_nohash_*.wav")}
    assert listed == {r["path"] for r in rows}
    for name, split in (("validation_list.txt", "validation"), ("testing_list.txt", "test")):
        assert (root / name).read_text().split() == sorted(r["path"] for r in rows if r["split"] == split)
    noise = sorted(p.name for p in (root / "_background_noise_").glob("*.wav"))
    assert noise == ["babble.wav", "brown_noise.wav", "music.wav", "pink_noise.wav", "white_noise.wav"]


@pytest.mark.slow
def test_splits_are_honest(tiny):
    rows = manifest_rows(tiny[1].root)
    splits_of_voice: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        splits_of_voice.setdefault((row["engine"], row["voice"]), set()).add(row["split"])
    assert all(len(s) == 1 for s in splits_of_voice.values()), "a voice is in two splits"
    variants: dict[str, set[str]] = {}
    for row in rows:
        if row["engine"] == "espeak":
            variants.setdefault(row["voice"].partition("+")[2], set()).add(row["split"])
    assert all(len(s) == 1 for s in variants.values()), "an espeak speaker is in two splits"
    assert {r["split"] for r in rows if r["engine"] == "piper"} == {"test_engine"}
    assert {r["engine"] for r in rows if r["split"] == "test_engine"} == {"piper", "noise"}
    for split in ("train", "validation", "test", "test_engine"):
        assert {r["label"] for r in rows if r["split"] == split} == {"_silence_", "_unknown_", *TINY_KEYWORDS}


@pytest.mark.slow
def test_second_build_does_no_work_and_a_lost_clip_is_remade(tiny):
    cfg, first = tiny
    before = {p: p.stat().st_mtime_ns for p in first.root.rglob("*") if p.is_file()}
    again = build_corpus(cfg)
    assert again.up_to_date and again.made == 0
    assert {p: p.stat().st_mtime_ns for p in first.root.rglob("*") if p.is_file()} == before
    lost = first.root / manifest_rows(first.root)[-1]["path"]
    content = lost.read_bytes()
    lost.unlink()
    repaired = build_corpus(cfg)
    assert not repaired.up_to_date and repaired.made == 1 and lost.read_bytes() == content


@pytest.mark.slow
def test_same_config_same_corpus_serial_or_parallel(tiny, tmp_path):
    _, first = tiny
    second = build_corpus(tiny_config(tmp_path / "copy", "data.workers=2"))
    assert (first.root / "manifest.csv").read_text() == (second.root / "manifest.csv").read_text()
    assert file_hashes(first.root) == file_hashes(second.root)


@pytest.mark.slow
def test_loader_reads_every_split(tiny):
    _, report = tiny
    labels = make_labels(TINY_KEYWORDS)
    rows = manifest_rows(report.root)
    for split in ("train", "validation", "test", "test_engine"):
        dataset = SpeechCommands(report.root, split, labels)
        assert len(dataset) == sum(r["split"] == split for r in rows) and not dataset.skipped
        wave, label = dataset[0]
        assert wave.shape == (CLIP_SAMPLES,) and labels[label] == dataset.records[0].label
    held = SpeechCommands(report.root, "test_engine", labels)
    assert {r.engine for r in held.records} == {"piper", "noise"}
    fewer = SpeechCommands(report.root, "train", make_labels(["yes"]))
    assert {fewer.labels[t] for t in fewer.targets} == {"_silence_", "_unknown_", "yes"}


@pytest.mark.slow
def test_loader_augments_train_items_reproducibly(tiny):
    cfg, report = tiny
    augment = WaveAugment.from_config(cfg.augment, report.root / "_background_noise_")
    dataset = SpeechCommands(report.root, "train", make_labels(TINY_KEYWORDS), augment=augment, seed=3)
    plain = SpeechCommands(report.root, "train", make_labels(TINY_KEYWORDS))
    first, again = dataset[1][0], dataset[1][0]
    assert torch.equal(first, again) and not torch.equal(first, plain[1][0])
    dataset.set_epoch(1)
    assert not torch.equal(first, dataset[1][0])


@pytest.mark.slow
def test_stream_events_are_where_the_keywords_are(tiny):
    cfg, report = tiny
    assert [p.name for p in report.streams] == ["stream_000.wav"]
    stream = load_audio(report.streams[0])
    assert stream.shape == (int(cfg.streams.minutes * 60 * SAMPLE_RATE),)
    events = json.loads(report.streams[0].with_suffix(".json").read_text())
    assert events and all(set(e) == {"keyword", "start_s", "end_s"} for e in events)
    held = [r for r in report.records() if r.split in ("test", "test_engine") and r.label in TINY_KEYWORDS]
    speech = [(r.label, trim_silence(load_audio(r.path))) for r in held]
    for event, following in zip(events, events[1:] + [None]):
        start, end = round(event["start_s"] * SAMPLE_RATE), round(event["end_s"] * SAMPLE_RATE)
        segment = stream[start:end]
        matches = [torch.nn.functional.cosine_similarity(segment, w, dim=0) for label, w in speech
                   if label == event["keyword"] and w.shape == segment.shape]
        assert matches and max(matches) > 0.9, f"no {event['keyword']!r} clip at {event}"
        if following:
            assert following["start_s"] - event["end_s"] >= KEYWORD_MARGIN_S
    assert build_streams(cfg) == report.streams  # rebuilt alone: same files, same content
    assert torch.equal(load_audio(report.streams[0]), stream)


@pytest.mark.slow
def test_phrase_keywords_voice_family_held_out_and_missing_engines_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no flite, festival or mbrola program
    report = build_corpus(tiny_config(tmp_path / "phrase", "data.keywords=[hey jarvis,stop]", *ESPEAK_ONLY))
    assert set(report.missing_engines) == {"flite", "festival", "mbrola"}
    rows = manifest_rows(report.root)
    assert {r["path"].split("/")[0] for r in rows if r["label"] == "hey jarvis"} == {"hey_jarvis"}
    held = {r["voice"].partition("+")[0] for r in rows if r["split"] == "test_engine" and r["engine"] == "espeak"}
    assert held == {"en"}
    assert all(not r["voice"].startswith("en+") for r in rows if r["split"] != "test_engine")


@pytest.mark.parametrize("overrides, error, match", [
    (["+data.engines.festivox={required: true, voices: [a], speed: [1, 1], pitch: [1, 1], takes: 1}"],
     EngineError, "festivox"),
    (["data.engines.espeak.voices=[en-gb]"], EngineError, "en-gb"),
    (["data.engines.espeak.variants=[m1,nosuch]"], EngineError, "nosuch"),
    (["data.engines.piper.voices=[amy]"], EngineError, "amy"),
    (["data.keywords=[yes,'']"], CorpusError, "non-empty"),
    (["data.keywords=[]"], CorpusError, "empty"),
    (["data.keywords=[true]"], CorpusError, "quote"),
    (["data.held_out=nosuch"], CorpusError, "'nosuch' matches no engine"),
    (["data.splits.test=0.5"], CorpusError, "sum"),
    (["data.streams.minutes=0"], CorpusError, "minutes"),
    (["data.running_speech.partial_rate=0.2"], CorpusError, "partial_rate must give a value for each"),
    (["data.running_speech.confusable_rate.test=2"], CorpusError, "confusable_rate.test"),
])
def test_bad_config_values_are_named(tmp_path, overrides, error, match):
    with pytest.raises(error, match=match):
        build_corpus(tiny_config(tmp_path / "c", *overrides))


@pytest.mark.slow
def test_unpronounceable_keyword_is_named(tmp_path):
    with pytest.raises(Unpronounceable, match=r"keyword '\.\.\.'"):
        build_corpus(tiny_config(tmp_path / "c", "data.keywords=[yes,...]", "data.streams.count=0", *ESPEAK_ONLY))


def test_missing_required_engine_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(PiperEngine, "available", classmethod(lambda cls: "packages ['piper'] are not installed"))
    with pytest.raises(EngineUnavailable, match="required engine 'piper'.*not installed"):
        build_corpus(tiny_config(tmp_path / "c"))


def test_unwritable_or_foreign_root_is_named(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(CorpusError, match="a_file/corpus"):
        build_corpus(tiny_config(blocker / "corpus"))
    foreign = tmp_path / "someone_elses"
    (foreign / "yes").mkdir(parents=True)
    (foreign / "yes" / "x_nohash_0.wav").write_bytes(b"")
    with pytest.raises(CorpusError, match="not built by asr_cnn"):
        build_corpus(tiny_config(foreign))
    assert (foreign / "yes" / "x_nohash_0.wav").exists()


def test_build_streams_needs_a_corpus(tmp_path):
    with pytest.raises(CorpusError, match="build the corpus first"):
        build_streams(tiny_config(tmp_path / "none"))


@pytest.mark.slow
def test_changed_config_reuses_clips_and_drops_stale_files(tmp_path):
    first = build_corpus(tiny_config(tmp_path / "c", *ESPEAK_ONLY))
    old = {r.path for r in first.records()}
    second = build_corpus(tiny_config(tmp_path / "c", "data.keywords=[yes,no]", "data.streams.count=0", *ESPEAK_ONLY))
    assert not second.streams and not list((second.root / "streams").glob("*"))
    kept = {r.path for r in second.records()}
    # Only unknown words drawn as near-misses of other keywords change; every other clip is reused.
    assert second.made < 0.1 * len(kept) and second.reused == len(kept & old)
    assert not (second.root / "stop").exists() and not any(p.exists() for p in old - kept)


def test_each_split_of_running_speech_has_its_own_rates_of_inserted_words():
    config = corpus_config(tiny_config(Path("unused")))
    espeak = next(spec for spec in config.engines if spec.name == "espeak")
    voices = [(espeak, f"en-us+{v}") for v in ("m1", "m3", "f2")]
    splits = dict(zip([("espeak", v) for _, v in voices], ("train", "validation", "test")))
    lexicon = build_lexicon(["computer"], EspeakEngine().phonemize, ["table", "river", "green", "walk", "slowly"],
                            {"computer": ["commuter"]})
    strong = replace(config, running_speech=replace(config.running_speech, partial_rate={**RATES, "train": 1.0},
                                                    confusable_rate={**RATES, "train": 1.0}))
    jobs = running_jobs(strong, voices, splits, lexicon, {"espeak": "key"})
    inserted = set(lexicon.partials) | set(lexicon.confusables)
    assert all(inserted & set(j.text.split()) for j in jobs["train"])
    assert not any(inserted & set(j.text.split()) for split in ("validation", "test") for j in jobs[split])


@pytest.mark.slow
def test_only_a_changed_split_of_running_speech_is_spoken_again(tmp_path):
    root = tmp_path / "c"
    build_corpus(tiny_config(root, *ESPEAK_ONLY))
    folder = root / RUNNING_DIR
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()}
    build_corpus(tiny_config(root, *ESPEAK_ONLY, "data.running_speech.confusable_rate.validation=1.0"))
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()}
    assert set(after) == set(before)
    assert {n for n in after if after[n] != before[n]} == {"validation.wav", "validation.json"}


@pytest.mark.slow
def test_relative_root_as_in_the_default_config(tmp_path, monkeypatch):
    """``data.root`` defaults to ``data/<name>``, relative to where the user runs (as ``make demo`` does)."""
    monkeypatch.chdir(tmp_path)
    report = build_corpus(tiny_config(Path("data") / "tiny"))
    assert report.root == tmp_path / "data" / "tiny"
    assert report.streams and all(p.is_absolute() and p.is_file() for p in report.streams)
