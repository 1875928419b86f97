"""The run's Markdown report: accuracies, per-engine and per-class tables, the plots, the model summary."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

REPORT_NAME = "report.md"


def percent(value: float | None) -> str:
    """``97.3%``, or ``n/a`` for an empty group."""
    return "n/a" if value is None else f"{100 * value:.1f}%"


def accuracy_table(splits: Mapping[str, dict]) -> list[str]:
    lines = ["| split | accuracy | clips |", "|---|---|---|"]
    lines += [f"| {name} | {percent(r['accuracy'])} | {r['n']} |" for name, r in splits.items()]
    return lines


def group_table(splits: Mapping[str, dict], key: str, title: str) -> list[str]:
    """One row per group (engine or class), one column per split."""
    names = sorted({group for r in splits.values() for group in r.get(key, {})})
    if not names:
        return []
    lines = [f"| {title} | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    for name in names:
        cells = []
        for report in splits.values():
            group = report.get(key, {}).get(name)
            cells.append(f"{percent(group['accuracy'])} ({group['n']})" if group else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def write_report(run_dir: str | Path, metrics: Mapping, summary: str, images: Mapping[str, str],
                 sections: Mapping[str, str] | None = None) -> Path:
    """Write ``report.md`` into the run directory (overwriting an earlier one).

    Args:
        run_dir: The run directory; image paths are written relative to it.
        metrics: The content of ``metrics.json``.
        summary: The model summary table (:func:`asr_cnn.summary.format_summary`).
        images: Caption -> PNG file name inside ``run_dir``.
        sections: Further ``title -> markdown`` sections (e.g. the demo's detections).
    """
    splits = metrics["splits"]
    lines = [
        f"# Keyword spotter: {metrics['model']}",
        "",
        f"{metrics['params']:,} parameters, {len(metrics['labels'])} classes, "
        f"{metrics['epochs']} epochs in {metrics['train_seconds']:.0f} s on {metrics['device']}.",
        "",
        "## Accuracy",
        "",
        *accuracy_table(splits),
        "",
        "`test` holds voices never heard in training; `test_engine` a whole engine or voice family (``data.held_out``) never heard in training.",
        "",
    ]
    for key, title in (("per_engine", "engine"), ("per_class", "class")):
        table = group_table(splits, key, title)
        if table:
            lines += [f"## Accuracy per {title} (clips)", "", *table, ""]
    for caption, name in images.items():
        lines += [f"## {caption}", "", f"![{caption}]({name})", ""]
    for title, body in (sections or {}).items():
        lines += [f"## {title}", "", body.rstrip(), ""]
    lines += ["## Model", "", summary, ""]
    path = Path(run_dir) / REPORT_NAME
    path.write_text("\n".join(lines))
    return path
