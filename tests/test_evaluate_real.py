"""Real-speech evaluation on a tiny manifest cut from the tiny corpus: counts, recall, false alarms per hour."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import soundfile as sf
import torch
from detect_support import lowest_meeting
from hydra.utils import instantiate

from asr_cnn.audio import load_audio
from asr_cnn.config import compose_config
from asr_cnn.detect import Detector
from asr_cnn.evaluation.manifest import COLUMNS, mentions, read_manifest
from asr_cnn.evaluation.real import REAL_DET_NAME, REAL_EVAL_NAME, evaluate_real
from asr_cnn.models.spotter import KeywordSpotter

PAUSE_S, PADDING_S = 0.5, 0.5
LIVELY = {"yes": 0.3, "no": 0.3, "stop": 0.3}  # low thresholds, so the counts compared are not all zero
WAKE_CLIPS = 3  # of "yes" and of "no"; the set has no "stop"


def row(path: str, kind: str, keyword: str, transcript: str, seconds: float) -> dict[str, str]:
    return {"path": path, "kind": kind, "keyword": keyword, "transcript": transcript, "speaker": "s1",
            "seconds": f"{seconds:.3f}", "source": "tiny corpus", "licence": "test"}


def write_manifest(folder: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> None:
    with (folder / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def real_set(tiny_corpus, tmp_path_factory) -> Path:
    """Wake words "yes" and "no" (and "hello", which the model lacks); speech, some of it saying a keyword."""
    folder = tmp_path_factory.mktemp("realset")
    rows = []
    for keyword in ("yes", "no"):
        for path in sorted((tiny_corpus / keyword).glob("*.wav"))[:WAKE_CLIPS]:
            rows.append(row(str(path), "wake_word", keyword, keyword, sf.info(path).duration))
    unknown = sorted((tiny_corpus / "_unknown_").glob("*.wav"))
    rows.append(row(str(unknown[0]), "wake_word", "hello", "hello", sf.info(unknown[0]).duration))
    # Speech: clips of other words, and three that say a keyword (left out) or only look like one (kept).
    transcripts = ["the weather today", "nobody knows", "STOP. right there", "she said yes", "a yellow boat"]
    speech = sorted((tiny_corpus / "_unknown_").glob("*.wav"))[1:4] + sorted((tiny_corpus / "yes").glob("*.wav"))[-2:]
    for path, transcript in zip(speech, transcripts, strict=True):
        rows.append(row(str(path), "speech", "", transcript, sf.info(path).duration))
    write_manifest(folder, rows)
    return folder


def config(checkpoint: Path, out: Path, *overrides: str):
    cfg = compose_config("evaluate_real", [f"checkpoint={checkpoint}", f"output_dir={out}", f"pause_s={PAUSE_S}",
                                           f"padding_s={PADDING_S}", "batch_size=4", *overrides])
    cfg.detector.thresholds = LIVELY
    return cfg


def detector_for(cfg) -> Detector:
    return instantiate(cfg.detector)(KeywordSpotter.load(cfg.checkpoint))


def expected_hits(cfg, clips: list[tuple[Path, str]]) -> dict[str, int]:
    """Each clip between silences through a fresh detector, pushed live: did its keyword fire?"""
    hits = {}
    for path, keyword in clips:
        detector = detector_for(cfg)
        silence = torch.zeros(round(PADDING_S * detector.spotter.sample_rate))
        events = detector.push(torch.cat([silence, load_audio(path), silence]))
        hits[keyword] = hits.get(keyword, 0) + any(event.keyword == keyword for event in events)
    return hits


def test_mentions_matches_whole_words_in_any_case():
    assert mentions("She said YES.", "yes")
    assert mentions("hey   computer, lights", "hey computer")
    assert not mentions("nobody knows", "no")
    assert not mentions("a yellow boat", "yes")
    assert not mentions("computers", "computer")


def test_evaluate_real_counts_recall_and_false_alarms_per_hour(real_set, tiny_checkpoint, tmp_path):
    before = tiny_checkpoint.read_bytes()
    out = tmp_path / "eval"
    cfg = config(tiny_checkpoint, out, f"set={real_set}")
    result = evaluate_real(cfg)
    assert tiny_checkpoint.read_bytes() == before  # evaluation only: nothing is written back
    assert result["wake_word_clips"] == {"yes": WAKE_CLIPS, "no": WAKE_CLIPS, "stop": 0}
    assert result["wake_word_clips_unused"] == {"hello": 1}

    # The speech stream: the clips whose transcript says no keyword, each followed by the pause.
    recordings = read_manifest(real_set)
    clean = [r for r in recordings if r.kind == "speech" and r.transcript in ("the weather today", "nobody knows",
                                                                                "a yellow boat")]
    assert result["speech"]["clips"] == 3 and result["speech"]["left_out_saying_a_keyword"] == 2
    samples = sum(load_audio(r.path).shape[-1] for r in clean) + 3 * round(PAUSE_S * 16_000)
    assert result["speech"]["hours"] == pytest.approx(samples / 16_000 / 3600)

    # As shipped: the same events as a detector pushed live over the same audio; fewer clips than the
    # streams side by side, so each clip is a stream of its own.
    pause = torch.zeros(round(PAUSE_S * 16_000))
    alarms = sum(len(detector_for(cfg).push(torch.cat([load_audio(r.path), pause]))) for r in clean)
    hits = expected_hits(cfg, [(r.path, r.keyword) for r in recordings if r.keyword in ("yes", "no")])
    shipped = result["operating_points"]["as_shipped"]
    assert shipped["false_alarms"] == alarms
    assert shipped["fa_per_hour"] == pytest.approx(alarms / result["speech"]["hours"])
    assert {k: shipped["per_keyword"][k]["hits"] for k in ("yes", "no")} == hits
    assert shipped["recall"] == pytest.approx(sum(hits.values()) / (2 * WAKE_CLIPS))
    assert shipped["per_keyword"]["stop"]["recall"] is None  # no clip of it
    assert alarms + sum(hits.values()) > 0, "the comparison above would hold for a model that never fires"

    # The sweep: at threshold 0 a keyword alone fires on every one of its clips; the oracle meets its target.
    assert result["det"]["yes"][0]["threshold"] == 0.0 and result["det"]["yes"][0]["recall"] == 1.0
    oracle = result["operating_points"]["oracle"]
    assert "oracle" in oracle["note"] and oracle["target_fa_per_hour"] == 1.0
    assert oracle["point"] is not None and oracle["point"] == lowest_meeting(result["det"]["all keywords"], 1.0)
    assert result["operating_points"]["threshold_0.5"]["threshold"] == 0.5

    # Outputs: the JSON is what was returned, the DET plot is a PNG.
    assert json.loads((out / REAL_EVAL_NAME).read_text()) == json.loads(json.dumps(result))
    assert (out / REAL_DET_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_positives_folder_measures_recall_only(real_set, tiny_corpus, tiny_checkpoint, tmp_path):
    clips = sorted((tiny_corpus / "no").glob("*.wav"))[:2]
    folder = tmp_path / "mine"
    folder.mkdir()
    for path in clips:
        (folder / path.name).write_bytes(path.read_bytes())
    cfg = config(tiny_checkpoint, tmp_path / "eval", f"positives={folder}", "keyword=no")
    result = evaluate_real(cfg)
    point = result["operating_points"]["as_shipped"]
    assert result["wake_word_clips"]["no"] == 2 and point["clips"] == 2
    assert point["hits"] == expected_hits(cfg, [(p, "no") for p in clips]).get("no", 0)
    assert point["fa_per_hour"] is None and result["speech"]["hours"] is None and result["det_png"] is None
    # With a set as well: the folder's clips for recall, the set's speech for false alarms.
    both = evaluate_real(config(tiny_checkpoint, tmp_path / "both", f"positives={folder}", "keyword=no",
                                f"set={real_set}"))
    assert both["wake_word_clips"] == {"yes": 0, "no": 2, "stop": 0}
    shipped = both["operating_points"]["as_shipped"]
    assert both["speech"]["clips"] == 3 and shipped["fa_per_hour"] == pytest.approx(
        shipped["false_alarms"] / both["speech"]["hours"])


def test_evaluate_real_refuses_what_it_cannot_measure(tiny_checkpoint, tmp_path):
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate_real(config(tiny_checkpoint, tmp_path))
    with pytest.raises(ValueError, match=r"keyword='athena'.*\['yes', 'no', 'stop'\]"):
        evaluate_real(config(tiny_checkpoint, tmp_path, f"positives={tmp_path}", "keyword=athena"))
    with pytest.raises(FileNotFoundError, match="manifest.csv"):
        evaluate_real(config(tiny_checkpoint, tmp_path, f"set={tmp_path}"))


@pytest.mark.parametrize("bad, message", [
    ({"kind": "music"}, r"row 3: kind 'music'"),
    ({"kind": "wake_word", "keyword": ""}, r"row 3: a wake_word row needs its keyword"),
    ({"seconds": "long"}, r"row 3: seconds 'long' is not a number"),
    ({"path": "missing.flac"}, r"row 3: .*missing\.flac: no such sound file"),
])
def test_a_bad_manifest_row_is_named(tmp_path, bad, message):
    sf.write(tmp_path / "a.wav", torch.zeros(1600).numpy(), 16_000)
    good = row("a.wav", "speech", "", "hello there", 0.1)
    write_manifest(tmp_path, [good, good | bad])
    with pytest.raises(ValueError, match=rf"manifest\.csv: {message}"):
        read_manifest(tmp_path)


def test_a_manifest_without_a_column_is_named(tmp_path):
    write_manifest(tmp_path, [], columns=tuple(c for c in COLUMNS if c != "transcript"))
    with pytest.raises(ValueError, match=r"manifest\.csv: missing column\(s\) transcript"):
        read_manifest(tmp_path)


def test_the_targets_benchmark_prints_each_shipped_figure_beside_its_target(real_set, tiny_checkpoint, tmp_path, capsys):
    from asr_cnn.bench import real as bench

    assert bench.main(["--wake", str(tiny_checkpoint), "--default", str(tiny_checkpoint), "--set", str(real_set)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[-2:]
    result = evaluate_real(compose_config("evaluate_real", [f"checkpoint={tiny_checkpoint}", f"set={real_set}",
                                                            f"output_dir={tmp_path}"]))  # what the bench runs
    point = result["operating_points"]["as_shipped"]
    wake_met = point["recall"] >= 0.9 and point["fa_per_hour"] <= 1.0
    assert lines[0].startswith("wake words") and f"recall {100 * point['recall']:.1f}%" in lines[0]
    assert lines[0].endswith("met" if wake_met else "MISSED")
    assert lines[1].startswith("default") and f"{point['fa_per_hour']:.1f} false alarms per hour" in lines[1]
    assert lines[1].endswith("met" if point["fa_per_hour"] <= 5.0 else "MISSED")
