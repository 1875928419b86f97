"""Real people saying command words: a Speech Commands folder as a classifier (12 classes on the real set) and
as a live detector (recall worst first, the share of other-word clips that fire), on a tiny folder made here."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
import soundfile as sf
import torch
from hydra.utils import instantiate

from asr_cnn.audio import AudioError
from asr_cnn.config import compose_config
from asr_cnn.demo import commands_markdown, evaluate_commands
from asr_cnn.evaluation.clips import evaluate
from asr_cnn.evaluation.folder import as_class, evaluate_audio_dir, scored_classes
from asr_cnn.evaluation.manifest import COLUMNS
from asr_cnn.evaluation.real import evaluate_real
from asr_cnn.evaluation.real_measure import first_fire_recall, other_word_firing
from asr_cnn.evaluation.scoring import Scored
from asr_cnn.models.spotter import KeywordSpotter

PADDING_S = 0.5
LIVELY = {"yes": 0.3, "no": 0.3, "stop": 0.3}  # low thresholds, so the counts compared are not all zero
FORMATS = {".opus": {"format": "OGG", "subtype": "OPUS"}, ".flac": {}, ".wav": {}}
CLASSES = ["_silence_", "_unknown_", "yes", "stop"]  # the tiny model's classes the folder below has: not "no"
AS_UNKNOWN = {"up": "_unknown_", "no": "_unknown_"}  # a folder the model lacks; a keyword the folder lacks


def write_clip(source: Path, target: Path) -> Path:
    """``source`` re-encoded by soundfile in the format ``target``'s suffix names."""
    data, rate = sf.read(source, dtype="float32")
    target.parent.mkdir(parents=True, exist_ok=True)
    sf.write(target, data, rate, **FORMATS[target.suffix])
    return target


def predicted_label(spotter: KeywordSpotter, path: Path) -> str:
    """The spotter's class for the centred window of one file, read and centred here, not by the code under test."""
    data, rate = sf.read(path, dtype="float32")
    assert rate == spotter.sample_rate
    wave, window = torch.from_numpy(data), torch.zeros(spotter.window_samples)
    if wave.shape[0] >= window.shape[0]:
        start = (wave.shape[0] - window.shape[0]) // 2
        window = wave[start:start + window.shape[0]]
    else:
        start = (window.shape[0] - wave.shape[0]) // 2
        window[start:start + wave.shape[0]] = wave
    with torch.no_grad():
        return spotter.labels[int(spotter.eval()(window[None])[0, :, 0].argmax())]  # (1, K, 1) -> (K,)


def manifest_row(folder: Path, path: Path, word: str) -> dict[str, str]:
    return {"path": str(path.relative_to(folder)), "kind": "wake_word", "keyword": word, "transcript": word,
            "speaker": "s1", "seconds": f"{sf.info(path).duration:.3f}", "source": "tiny corpus", "licence": "test"}


@pytest.fixture(scope="module")
def commands_set(tiny_corpus, tmp_path_factory) -> Path:
    """The Speech Commands layout in .opus, .flac and .wav, with a manifest of the words said.

    ``yes/`` (and an unreadable file), ``stop/``, ``up/`` (a word the model does not know), ``_unknown_/``
    (other words, and "no": a keyword of the model the folder has no folder for, which the tiny model says
    often), ``_silence_/``, and at the top an unlabelled clip, a README and the manifest.
    """
    folder = tmp_path_factory.mktemp("commands")
    clips = {label: sorted((tiny_corpus / label).glob("*.wav")) for label in ("yes", "no", "stop", "_unknown_",
                                                                               "_silence_")}
    rows = []
    for label, word, sources, suffixes in (("yes", "yes", clips["yes"][:3], [".opus", ".flac", ".wav"]),
                                           ("stop", "stop", clips["stop"][:2], [".opus", ".wav"]),
                                           ("up", "up", clips["_unknown_"][:2], [".flac", ".flac"]),
                                           ("_unknown_", "bed", clips["_unknown_"][2:4], [".opus", ".wav"]),
                                           ("_unknown_", "no", clips["no"][:3], [".opus", ".flac", ".opus"])):
        for i, (source, suffix) in enumerate(zip(sources, suffixes, strict=True)):
            path = write_clip(source, folder / label / f"{word}_{i}{suffix}")
            rows.append(manifest_row(folder, path, word))
    for i, source in enumerate(clips["_silence_"][:2]):
        write_clip(source, folder / "_silence_" / f"noise_{i}.wav")
    write_clip(clips["yes"][3], folder / "loose.flac")
    (folder / "yes" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    (folder / "README.md").write_text("a tiny Speech Commands folder")
    with (folder / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def folder_and_prediction(spotter: KeywordSpotter, folder: Path) -> list[tuple[str, str]]:
    """(folder, model label) of every labelled readable clip, each classified on its own."""
    return [(path.parent.name, predicted_label(spotter, path)) for path in sorted(folder.glob("*/*"))
            if path.suffix in FORMATS and path.name != "broken.wav"]


def test_scored_classes_map_what_the_folder_or_the_model_lacks_to_unknown():
    labels = ["_silence_", "_unknown_", "hello", "yes", "hey jarvis"]
    classes = scored_classes(labels, {"yes", "up", "hey_jarvis", "_unknown_", "_silence_"})
    assert classes == ["_silence_", "_unknown_", "yes", "hey jarvis"]
    assert [as_class(name, classes) for name in ("hello", "up", "yes", "hey_jarvis", "hey jarvis", "_silence_")] \
        == [1, 1, 2, 3, 3, 0]


def test_a_speech_commands_folder_counts_every_class(commands_set, tiny_checkpoint, tmp_path, capsys):
    pairs = folder_and_prediction(KeywordSpotter.load(tiny_checkpoint), commands_set)
    expected = Counter((AS_UNKNOWN.get(true, true), AS_UNKNOWN.get(said, said)) for true, said in pairs)
    result = evaluate(compose_config("evaluate", [f"checkpoint={tiny_checkpoint}", f"audio_dir={commands_set}",
                                                  f"run_dir={tmp_path}", "batch_size=3"]))["audio_dir"]
    assert result["classes"] == CLASSES
    assert result["confusion"] == [[expected[(true, predicted)] for predicted in CLASSES] for true in CLASSES]
    n = sum(expected.values())
    assert result["n"] == result["n_scored"] == n == 3 + 2 + 2 + 2 + 3 + 2  # yes, stop, up, bed, no, silence
    assert result["accuracy"] == pytest.approx(sum(expected[(c, c)] for c in CLASSES) / n)
    for name in CLASSES:
        own = sum(expected[(name, p)] for p in CLASSES)
        assert result["per_class"][name] == {"accuracy": pytest.approx(expected[(name, name)] / own), "n": own}
    assert result["folders_as_unknown"] == {"up": 2}
    said_no = sum(predicted == "no" for _, predicted in pairs)
    assert result["predictions_as_unknown"] == {"no": said_no}
    assert said_no > 0, "the tiny model never said 'no' here: the mapping to _unknown_ went untested"
    assert [e["path"] for e in result["errors"]] == [str(commands_set / "yes" / "broken.wav")]
    loose = [f for f in result["files"] if f["label"] is None]
    assert [f["path"] for f in loose] == [str(commands_set / "loose.flac")]  # listed, not scored; README ignored

    written = json.loads((tmp_path / "evaluation.json").read_text())["audio_dir"]
    assert written["confusion"] == result["confusion"] and written["per_class"] == json.loads(
        json.dumps(result["per_class"]))
    printed = capsys.readouterr().out
    for name, counts in zip(CLASSES, result["confusion"]):
        assert any(line.split()[:len(CLASSES) + 1] == [name, *map(str, counts)] for line in printed.splitlines())
    assert "folders counted as _unknown_: up (2)" in printed


def test_a_folder_without_sound_files_is_named(tiny_checkpoint, tmp_path):
    (tmp_path / "yes").mkdir()
    (tmp_path / "yes" / "notes.txt").write_text("no audio here")
    with pytest.raises(AudioError, match=rf"{tmp_path}: the folder holds no sound file"):
        evaluate_audio_dir(KeywordSpotter.load(tiny_checkpoint), tmp_path, batch_size=4)
    with pytest.raises(AudioError, match=r"audio_dir=.*notes\.txt: not a folder"):
        evaluate_audio_dir(KeywordSpotter.load(tiny_checkpoint), tmp_path / "yes" / "notes.txt", batch_size=4)


def scored_by_hand(fires: list[list[tuple[int, str]]], labels: list[list[dict]]) -> Scored:
    """Streams of 20 rows (0.1 s apart, 1 s windows) where each ``(row, keyword)`` reaches 0.9, all else 0."""
    classes = ["_silence_", "_unknown_", "yes", "no"]
    scores = torch.zeros(len(fires), 20, len(classes))  # (B, N, K)
    for stream, rows in enumerate(fires):
        for row, keyword in rows:
            scores[stream, row, classes.index(keyword)] = 0.9
    thresholds = torch.tensor([float("inf"), float("inf"), 0.5, 0.5])  # (K,)
    return Scored(scores, [3.0] * len(fires), labels, classes, hop_s=0.1, window_s=1.0, refractory_rows=3,
                  thresholds=thresholds, smoothing_rows=1)


def test_recall_counts_a_clip_when_its_keyword_fires_first_worst_word_first():
    said = [[{"keyword": keyword, "start_s": 0.5, "end_s": 1.5}] for keyword in ("yes", "yes", "yes", "no")]
    # "no" fires before "yes" (a miss, though "yes" fires later); "yes" alone; nothing; "no" on its clip.
    scored = scored_by_hand([[(2, "no"), (8, "yes")], [(4, "yes")], [], [(3, "no")]], said)
    assert first_fire_recall(scored) == [
        {"keyword": "yes", "recall": 1 / 3, "hits": 1, "clips": 3, "other_keyword_first": 1},
        {"keyword": "no", "recall": 1.0, "hits": 1, "clips": 1, "other_keyword_first": 0}]


def test_other_words_share_per_word_most_firing_first():
    scored = scored_by_hand([[(2, "no"), (9, "yes")], [], [(5, "yes")], [], [(1, "no")]], [[]] * 5)
    result = other_word_firing(scored, ["bed", "bed", "dog", "cat", "bed"])
    assert (result["share"], result["count"], result["clips"]) == (3 / 5, 3, 5)
    assert result["first_keywords"] == {"no": 2, "yes": 1}
    assert list(result["per_word"].items()) == [("dog", {"share": 1.0, "count": 1, "clips": 1}),
                                                ("bed", {"share": 2 / 3, "count": 2, "clips": 3}),
                                                ("cat", {"share": 0.0, "count": 0, "clips": 1})]


def live_events(cfg, path: Path) -> list:
    """The events of one clip between silences, pushed through a fresh detector."""
    detector = instantiate(cfg.detector)(KeywordSpotter.load(cfg.checkpoint))
    silence = torch.zeros(round(PADDING_S * detector.spotter.sample_rate))
    data, _ = sf.read(path, dtype="float32")
    return detector.push(torch.cat([silence, torch.from_numpy(data), silence]))


def real_config(checkpoint: Path, folder: Path, out: Path, *overrides: str):
    cfg = compose_config("evaluate_real", [f"checkpoint={checkpoint}", f"set={folder}", f"output_dir={out}",
                                           f"padding_s={PADDING_S}", "batch_size=4", *overrides])
    cfg.detector.thresholds = LIVELY
    return cfg


def test_other_words_firing_and_recall_worst_first(commands_set, tiny_checkpoint, tmp_path, capsys):
    cfg = real_config(tiny_checkpoint, commands_set, tmp_path)
    result = evaluate_real(cfg)
    with (commands_set / "manifest.csv").open(newline="") as handle:
        said = [(commands_set / row["path"], row["keyword"]) for row in csv.DictReader(handle)]
    fired, first = Counter(), Counter()
    clips = Counter(word for _, word in said)
    for path, word in said:
        events = live_events(cfg, path)
        fired[word] += bool(events)
        first[word] += bool(events) and events[0].keyword == word

    others = result["other_words"]
    assert others["per_word"] == {word: {"share": fired[word] / clips[word], "count": fired[word],
                                         "clips": clips[word]} for word in others["per_word"]}
    assert set(others["per_word"]) == {"up", "bed"}
    assert list(others["per_word"]) == sorted(others["per_word"], key=lambda w: (-fired[w] / clips[w], w))
    assert others["count"] == fired["up"] + fired["bed"] and others["clips"] == 4
    assert others["share"] == pytest.approx(others["count"] / 4)
    assert sum(fired.values()) > 0, "the comparisons would hold for a model that never fires"

    recalls = result["recall_worst_first"]
    assert {r["keyword"]: (r["hits"], r["clips"]) for r in recalls} == {k: (first[k], clips[k])
                                                                        for k in ("yes", "no", "stop")}
    assert [r["recall"] for r in recalls] == sorted(first[k] / clips[k] for k in ("yes", "no", "stop"))
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("operating point"))
    assert header.split()[3:6] == [r["keyword"] for r in recalls]  # the table's keyword columns, worst first
    assert json.loads((tmp_path / "real_eval.json").read_text())["other_words"] == json.loads(json.dumps(others))

    unscored = real_config(tiny_checkpoint, commands_set, tmp_path / "off", "other_words=false")
    assert evaluate_real(unscored)["other_words"] is None


def test_the_demo_step_reports_both_when_the_set_is_there(commands_set, tiny_checkpoint, tmp_path, capsys):
    folder, real = evaluate_commands(tiny_checkpoint, commands_set, tmp_path / "commands")
    assert folder["classes"] == CLASSES and real["other_words"]["clips"] == 4
    assert (tmp_path / "commands" / "evaluation.json").is_file()
    assert (tmp_path / "commands" / "real_eval.json").is_file()
    text = commands_markdown(folder, real, commands_set)
    assert f"**{100 * folder['accuracy']:.1f}%** over 4 classes" in text
    assert "| `yes` | " + " | ".join(map(str, folder["confusion"][2])) + " |" in text
    assert real["recall_worst_first"][0]["keyword"] in text.split("worst word first:")[1].split(",")[0]
    assert "[6/6]" in capsys.readouterr().out

    assert evaluate_commands(tiny_checkpoint, tmp_path / "absent", tmp_path / "none") == (None, None)
    assert "is not there, skipped" in capsys.readouterr().out
    assert "is not there" in commands_markdown(None, None, tmp_path / "absent")
