"""The main job, ``make demo``: corpus -> training for live streams -> what users care about -> report.

    python -m asr_cnn.demo [any conf/train.yaml override, e.g. experiment=pretrained]

On a fresh clone this synthesizes the default corpus (``conf/data/default.yaml``), trains the default
experiment with the live-stream regime (running-speech negatives, keywords in context, mining), whose
thresholds are calibrated on validation streams, and then reports what a user of a wake-word engine
asks: on held-out synthetic test streams (voices never heard in training), recall and false alarms per
hour at the thresholds as shipped, with a short listing of detections; and, when the real recordings of
``../shared/realspeech`` are there (evaluation only: nothing measured on them is written back), recall
on real speakers and false alarms per hour of real speech; and when ``../shared/speech_commands_v2_test``
is there (real people saying the command words; evaluation only, never trained or tuned on), its 12-class
accuracy with the confusion matrix, each command word's recall as a live detector (worst first), and how
often a keyword fires on other words. Everything lands in one run directory under ``outputs/demo/``, with
``report.md`` tying it together.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path

from asr_cnn.config import compose_config
from asr_cnn.data import build_corpus
from asr_cnn.detect import Detector
from asr_cnn.detect.files import detect_file
from asr_cnn.evaluation.clips import evaluate
from asr_cnn.evaluation.matching import hit_flags
from asr_cnn.evaluation.real import REAL_EVAL_NAME, REAL_SET, evaluate_real
from asr_cnn.evaluation.scoring import SECONDS_PER_HOUR
from asr_cnn.evaluation.wakeword import DET_FILENAME, evaluate_streams
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.recipes.errors import user_errors
from asr_cnn.training.loop import train
from asr_cnn.training.outputs import IMAGES, SUMMARY_NAME
from asr_cnn.training.report import percent, write_report

log = logging.getLogger("asr_cnn.demo")

DEMO_DIR = Path("outputs") / "demo"
COMMANDS_SET = Path("..") / "shared" / "speech_commands_v2_test"
"""Real people saying the command words (Speech Commands v0.02's test set), beside the checkout when there."""
COMMANDS_DIR = "commands"  # the run directory's folder for that set's figures
DETECTIONS_NAME = "detections.json"
SHOWN_EVENTS = 12  # detections listed; the JSON file has them all
SCAN_BLOCK_SECONDS = 10.0  # events are the same for any chunking; long blocks cost fewer calls
EVALUATION_THREADS = "threads=null"  # the demo has the machine to itself: real-speech scoring on every core


class Laps:
    """The seconds each step took, printed as it ends: where the demo's minutes go."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = now - self.last
        self.last = now
        print(f"      ({step}: {self.seconds[step]:.0f} s)", flush=True)


def scan_stream(model_path: Path, stream: Path) -> dict:
    """Detect keywords in one long stream and score them against its labels.

    Returns:
        ``events`` (dicts with a ``hit`` flag), ``hits``, ``misses``, ``false_alarms``, ``hours``,
        ``labels`` (the stream's keyword count) and ``seconds`` (wall time of the scan).
    """
    started = time.perf_counter()
    detector = Detector(KeywordSpotter.load(model_path))
    events = list(detect_file(detector, stream, block_seconds=SCAN_BLOCK_SECONDS))
    labels = json.loads(stream.with_suffix(".json").read_text())
    flags = hit_flags(events, labels)  # the listing and the counts agree: a repeat detection is a false alarm
    hits = sum(flags)
    duration_s = detector.rows * detector.hop_s
    return {"stream": str(stream), "hours": duration_s / SECONDS_PER_HOUR, "labels": len(labels), "hits": hits,
            "misses": len(labels) - hits, "false_alarms": len(events) - hits, "seconds": time.perf_counter() - started,
            "events": [e.to_dict(hit=flag) for e, flag in zip(events, flags)]}


def stream_line(point: dict) -> str:
    """``recall 91.0% (91/100), 2.0 false alarms per hour`` of one operating point."""
    labelled = point["hits"] + point["misses"]
    return (f"recall {percent(point['hits'] / labelled if labelled else None)} ({point['hits']}/{labelled}), "
            f"{point['fa_per_hour']:.1f} false alarms per hour")


def detection_markdown(scan: dict, shipped: str) -> str:
    """The report section on the listed stream."""
    lines = [f"`{scan['stream']}`: {scan['hours'] * 60:.1f} minutes, {scan['labels']} spoken keywords; "
             f"{scan['hits']} detected, {scan['misses']} missed, {scan['false_alarms']} false alarms at the "
             f"thresholds as shipped ({shipped}). Scanned in {scan['seconds']:.1f} s.", "",
             "| time (s) | keyword | score | correct |", "|---|---|---|---|"]
    lines += [f"| {e['start_s']:.2f} - {e['end_s']:.2f} | {e['keyword']} | {e['score']:.3f} | "
              f"{'yes' if e['hit'] else 'false alarm'} |" for e in scan["events"][:SHOWN_EVENTS]]
    if len(scan["events"]) > SHOWN_EVENTS:
        lines.append(f"| ... | {len(scan['events']) - SHOWN_EVENTS} more in {DETECTIONS_NAME} | | |")
    return "\n".join(lines)


def recall_line(real: dict) -> str:
    """``down 40.0% (4/10), ...``: each keyword's recall as shipped, the right keyword first, worst first."""
    return ", ".join(f"{row['keyword']} {percent(row['recall'])} ({row['hits']}/{row['clips']})"
                     for row in real["recall_worst_first"])


def other_words_line(others: dict | None) -> str:
    """The share of other-word clips on which a keyword fires, and the words it fires on most."""
    if not others or not others["clips"]:
        return "No clips of other words to measure how often a keyword fires on them."
    most = ", ".join(f"{word} {percent(part['share'])} ({part['count']}/{part['clips']})"
                     for word, part in list(others["per_word"].items())[:5] if part["count"])
    return (f"On clips of other words (none of the model's keywords), a keyword fires on {percent(others['share'])} "
            f"({others['count']}/{others['clips']})" + (f"; most on {most}." if most else "."))


def real_markdown(real: dict | None) -> str:
    """The report section on real speech (or why it is missing)."""
    if real is None:
        return f"`{REAL_SET}` is not there: no real-speech figures in this run."
    shipped = real["operating_points"]["as_shipped"]
    lines = [f"Thresholds as shipped, on `{real['set']}` (evaluation only): "
             f"{shipped['fa_per_hour']:.1f} false alarms per hour of real speech ({real['speech']['hours']:.2f} h)."]
    if real["wake_word_clips"] and any(real["wake_word_clips"].values()):
        lines.append(f"Recall on real speakers: {percent(shipped['recall'])} overall; per keyword, worst first (the "
                     f"right keyword firing first): {recall_line(real)}.")
    else:
        lines.append("The set has no recordings of this model's keywords: recall is measured for wake-word models.")
    lines.append(other_words_line(real["other_words"]))
    return " ".join(lines) + f" Full figures: `{Path(real['output_dir']) / REAL_EVAL_NAME}`."


def confusion_markdown(report: dict) -> list[str]:
    """The confusion matrix as a markdown table (rows: true class), each class's accuracy in the last column."""
    classes = report["classes"]
    lines = ["| true \\ predicted | " + " | ".join(f"`{name}`" for name in classes) + " | accuracy (clips) |",
             "|---" * (len(classes) + 2) + "|"]
    for name, counts in zip(classes, report["confusion"]):
        own = report["per_class"][name]
        lines.append(f"| `{name}` | " + " | ".join(map(str, counts)) + f" | {percent(own['accuracy'])} ({own['n']}) |")
    return lines


def commands_markdown(folder: dict | None, real: dict | None, commands_set: Path) -> str:
    """The report section on real people saying the command words (or why it is missing)."""
    if folder is None or real is None:
        return f"`{commands_set}` is not there: no figures on real people saying the command words in this run."
    unknown = ", ".join(folder["predictions_as_unknown"]) or "none"
    lines = [f"`{commands_set}`: real people saying the command words (evaluation only: never trained or tuned on).",
             "",
             f"As a classifier of one-second clips: **{percent(folder['accuracy'])}** over {len(folder['classes'])} "
             f"classes ({folder['n']} clips, scored in {folder['seconds']:.1f} s; keywords the set has no folder for "
             f"count as `_unknown_`: {unknown}).", "", *confusion_markdown(folder), "",
             f"As a live detector (thresholds as shipped, each clip alone between {real['padding_s']} s of quiet), "
             f"recall, the right keyword firing first, worst word first: {recall_line(real)}. "
             f"{other_words_line(real['other_words'])}",
             f"Full figures: `{Path(real['output_dir'])}`."]
    return "\n".join(lines)


def evaluate_commands(model: Path, commands_set: Path, out: Path) -> tuple[dict | None, dict | None]:
    """Step 6: the command-word set as 12 classes and as a live detector; ``(None, None)`` when it is not there."""
    if not (commands_set / "manifest.csv").is_file():
        print(f"[6/6] real people saying the command words: {commands_set} is not there, skipped", flush=True)
        return None, None
    print(f"[6/6] real people saying the command words, {commands_set} (evaluation only):", flush=True)
    folder = evaluate(compose_config("evaluate", [f"checkpoint={model}", f"audio_dir={commands_set.resolve()}",
                                                  f"run_dir={out}"]))["audio_dir"]
    real = evaluate_real(compose_config("evaluate_real", [f"checkpoint={model}", f"set={commands_set.resolve()}",
                                                          f"output_dir={out}", EVALUATION_THREADS]))
    return folder, real



def run_demo(overrides: list[str], real_set: Path = REAL_SET, commands_set: Path = COMMANDS_SET) -> dict:
    """Run the whole job; return the paths and the figures it printed."""
    started = time.perf_counter()
    laps = Laps()
    run_dir = DEMO_DIR / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    cfg = compose_config("train", [f"run_dir={run_dir}", *overrides])

    print(f"[1/6] corpus: {cfg.data.root}", flush=True)
    corpus = build_corpus(cfg.data)
    print(f"      {'up to date' if corpus.up_to_date else f'{corpus.made} clips made'} in {corpus.seconds:.0f} s; "
          f"engines left out: {', '.join(corpus.missing_engines) or 'none'}", flush=True)
    laps.done("corpus")

    print(f"[2/6] training {cfg.model._target_} for live streams, {cfg.trainer.max_epochs} epochs, into {run_dir}",
          flush=True)
    result = train(cfg)
    metrics = result["metrics"]
    calibration = metrics.get("calibration", {})
    thresholds = KeywordSpotter.load(result["model"]).extra.get("thresholds", {})
    shipped = ", ".join(f"{k} {t:.3g}" for k, t in thresholds.items()) or "the detector's default"
    smoothing = f" over {calibration['smoothing_s']:.2f} s of smoothing" if "smoothing_s" in calibration else ""
    on = "real speech" if calibration.get("real") else "validation streams"
    print(f"      {metrics['train_seconds']:.0f} s of training; thresholds calibrated on {on} for "
          f"{calibration.get('target_fa_per_hour', 'n/a')} false alarms per hour: {shipped}{smoothing}", flush=True)
    heldout = calibration.get("real_heldout")
    if heldout:
        print(f"      held-out real speech ({heldout['hours']:.2f} h, speakers never trained or calibrated on): "
              f"{heldout['fa_per_hour']:.2f} false alarms per hour as shipped (target "
              f"{heldout['target_fa_per_hour']:g})", flush=True)
    laps.done("training, calibration and checks")

    print("[3/6] clips never heard in training:", flush=True)
    for split, report in metrics["splits"].items():
        print(f"      {split:<12} {percent(report['accuracy']):>6}  ({report['n']} clips)", flush=True)

    streams = corpus.streams[0].parent
    print(f"[4/6] held-out synthetic test streams ({streams}), thresholds as shipped:", flush=True)
    det = evaluate_streams(compose_config("evaluate_stream", [
        f"checkpoint={result['model']}", f"streams={streams}", f"output_dir={run_dir}",
        f"block_seconds={SCAN_BLOCK_SECONDS}"]))
    print(f"      {stream_line(det['detector_thresholds'])} over {det['hours'] * 60:.0f} minutes", flush=True)
    scan = scan_stream(Path(result["model"]), corpus.streams[0])
    for event in scan["events"][:SHOWN_EVENTS]:
        mark = "" if event["hit"] else "   <- false alarm"
        print(f"      {event['start_s']:8.2f} s  {event['keyword']:<8} {event['score']:.3f}{mark}", flush=True)
    if len(scan["events"]) > SHOWN_EVENTS:
        print(f"      ... {len(scan['events']) - SHOWN_EVENTS} more in {run_dir / DETECTIONS_NAME}", flush=True)
    laps.done("test streams")

    real = None
    if (real_set / "manifest.csv").is_file():
        print(f"[5/6] real speech, {real_set} (evaluation only), thresholds as shipped:", flush=True)
        real = evaluate_real(compose_config("evaluate_real", [
            f"checkpoint={result['model']}", f"set={real_set.resolve()}", f"output_dir={run_dir / 'real'}",
            EVALUATION_THREADS]))
    else:
        print(f"[5/6] real speech: {real_set} is not there, skipped", flush=True)
    laps.done("real speech")

    folder, commands = evaluate_commands(Path(result["model"]), commands_set, run_dir / COMMANDS_DIR)
    laps.done("command words")

    (run_dir / DETECTIONS_NAME).write_text(json.dumps(scan, indent=2))
    stream_text = (f"Held-out synthetic test streams, thresholds as shipped: {stream_line(det['detector_thresholds'])} "
                   f"over {det['hours'] * 60:.0f} minutes.\n\n{detection_markdown(scan, shipped)}")
    report = write_report(run_dir, metrics, (run_dir / SUMMARY_NAME).read_text(),
                          {**IMAGES, "Detection error trade-off on the test streams": DET_FILENAME},
                          {"Real speech": real_markdown(real),
                           "Real people saying the command words": commands_markdown(folder, commands, commands_set),
                           "Detections on long test streams": stream_text})
    elapsed = time.perf_counter() - started
    paths = {"run directory": run_dir, "checkpoint": result["model"], "report": report,
             "metrics": run_dir / "metrics.json", "detections": run_dir / DETECTIONS_NAME}
    print(f"\ndone in {elapsed:.0f} s", flush=True)
    for name, path in paths.items():
        print(f"  {name:<14} {path}", flush=True)
    return {"paths": paths, "metrics": metrics, "scan": scan, "streams": det, "real": real,
            "commands": {"classes": folder, "detector": commands} if folder else None, "seconds": elapsed,
            "step_seconds": laps.seconds}


@user_errors
def main(argv: list[str] | None = None) -> None:
    """``python -m asr_cnn.demo`` and the ``asr-cnn-demo`` command: the overrides come from the command line."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("asr_cnn.training").setLevel(logging.INFO)  # the summary and one line per epoch
    run_demo(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
