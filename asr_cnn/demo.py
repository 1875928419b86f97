"""The main job, ``make demo``: corpus -> training -> evaluation -> a scanned test stream -> report.

    python -m asr_cnn.demo [any conf/train.yaml override, e.g. model=res8]

On a fresh clone this synthesizes the default corpus (``conf/data/default.yaml``), trains the default
experiment (``conf/train.yaml``) on the CPU cores there are, evaluates it on the voice-held-out
(``test``) and engine- or voice-family-held-out (``test_engine``) splits, runs the streaming detector
(:class:`asr_cnn.detect.Detector`) over the first long test stream and prints every detection with
its time, marked against the stream's labels. Everything lands in one run directory under
``outputs/demo/``, with ``report.md`` tying it together.
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
from asr_cnn.evaluation.matching import hit_flags
from asr_cnn.evaluation.scoring import SECONDS_PER_HOUR
from asr_cnn.evaluation.wakeword import DET_FILENAME, evaluate_streams
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.recipes.errors import user_errors
from asr_cnn.training.loop import train
from asr_cnn.training.outputs import IMAGES, SUMMARY_NAME
from asr_cnn.training.report import percent, write_report

log = logging.getLogger("asr_cnn.demo")

DEMO_DIR = Path("outputs") / "demo"
DETECTIONS_NAME = "detections.json"
SHOWN_EVENTS = 40  # detections printed in full; the rest are counted (the JSON file has them all)
SCAN_BLOCK_SECONDS = 10.0  # events are the same for any chunking; long blocks cost fewer calls


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


def detection_markdown(scan: dict) -> str:
    """The report section on the scanned stream."""
    lines = [f"`{scan['stream']}`: {scan['hours'] * 60:.1f} minutes, {scan['labels']} spoken keywords; "
             f"{scan['hits']} detected, {scan['misses']} missed, {scan['false_alarms']} false alarms "
             f"({scan['false_alarms'] / scan['hours']:.1f} per hour) at the detector's default "
             f"threshold. Scanned in {scan['seconds']:.1f} s.", "",
             "| time (s) | keyword | score | correct |", "|---|---|---|---|"]
    lines += [f"| {e['start_s']:.2f} - {e['end_s']:.2f} | {e['keyword']} | {e['score']:.3f} | "
              f"{'yes' if e['hit'] else 'false alarm'} |" for e in scan["events"][:SHOWN_EVENTS]]
    if len(scan["events"]) > SHOWN_EVENTS:
        lines.append(f"| ... | {len(scan['events']) - SHOWN_EVENTS} more in {DETECTIONS_NAME} | | |")
    return "\n".join(lines)


def run_demo(overrides: list[str]) -> dict:
    """Run the whole job; return the paths and the figures it printed."""
    started = time.perf_counter()
    run_dir = DEMO_DIR / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    cfg = compose_config("train", [f"run_dir={run_dir}", *overrides])

    print(f"[1/4] corpus: {cfg.data.root}", flush=True)
    corpus = build_corpus(cfg.data)
    print(f"      {'up to date' if corpus.up_to_date else f'{corpus.made} clips made'} in {corpus.seconds:.0f} s; "
          f"engines left out: {', '.join(corpus.missing_engines) or 'none'}", flush=True)

    print(f"[2/4] training {cfg.model._target_} for {cfg.trainer.max_epochs} epochs into {run_dir}", flush=True)
    result = train(cfg)
    metrics = result["metrics"]
    print(f"      {metrics['train_seconds']:.0f} s of training", flush=True)

    print("[3/4] evaluation (clips never heard in training):", flush=True)
    for split, report in metrics["splits"].items():
        print(f"      {split:<12} {percent(report['accuracy']):>6}  ({report['n']} clips)", flush=True)

    stream = corpus.streams[0]
    print(f"[4/4] scanning {stream} with the streaming detector", flush=True)
    scan = scan_stream(Path(result["model"]), stream)
    for event in scan["events"][:SHOWN_EVENTS]:
        mark = "" if event["hit"] else "   <- false alarm"
        print(f"      {event['start_s']:8.2f} s  {event['keyword']:<8} {event['score']:.3f}{mark}", flush=True)
    if len(scan["events"]) > SHOWN_EVENTS:
        print(f"      ... and {len(scan['events']) - SHOWN_EVENTS} more", flush=True)
    print(f"      {scan['hits']}/{scan['labels']} keywords detected, {scan['false_alarms']} false alarms "
          f"in {scan['hours'] * 60:.0f} minutes", flush=True)

    det = evaluate_streams(compose_config("evaluate_stream", [
        f"checkpoint={result['model']}", f"streams={stream.parent}", f"output_dir={run_dir}",
        f"block_seconds={SCAN_BLOCK_SECONDS}"]))
    frr = det["frr_at_1_fa_per_hour"]
    operating = f"missed keywords at 1 false alarm per hour (best single threshold): {percent(frr)}"
    print(f"      {operating}", flush=True)

    (run_dir / DETECTIONS_NAME).write_text(json.dumps(scan, indent=2))
    report = write_report(run_dir, metrics, (run_dir / SUMMARY_NAME).read_text(),
                          {**IMAGES, "Detection error trade-off on the test streams": DET_FILENAME},
                          {"Detections on a long test stream": f"{detection_markdown(scan)}\n\nDET sweep: {operating}."})
    elapsed = time.perf_counter() - started
    paths = {"run directory": run_dir, "checkpoint": result["model"], "report": report,
             "metrics": run_dir / "metrics.json", "detections": run_dir / DETECTIONS_NAME}
    print(f"\ndone in {elapsed:.0f} s", flush=True)
    for name, path in paths.items():
        print(f"  {name:<14} {path}", flush=True)
    return {"paths": paths, "metrics": metrics, "scan": scan, "seconds": elapsed}


@user_errors
def main(argv: list[str] | None = None) -> None:
    """``python -m asr_cnn.demo`` and the ``asr-cnn-demo`` command: the overrides come from the command line."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("asr_cnn.training").setLevel(logging.INFO)  # the summary and one line per epoch
    run_demo(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
