"""The terminal summary of a real-speech evaluation: recall per keyword and false alarms per hour."""

from __future__ import annotations

from typing import Any

LABEL_WIDTH = 44
CELL_WIDTH = 10


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def threshold_cell(point: dict[str, Any], shipped: dict[str, float]) -> str:
    """The swept threshold, or the shipped one when all keywords share it."""
    if point["threshold"] is not None:
        return f"{point['threshold']:.4g}"
    values = set(shipped.values())
    return f"{values.pop():.4g}" if len(values) == 1 else "per keyword"


def row(label: str, cells: list[str]) -> str:
    return f"{label:<{LABEL_WIDTH}}" + "".join(f"{cell:>{CELL_WIDTH}}" for cell in cells)


def format_table(result: dict[str, Any]) -> str:
    """Lines for the terminal from the content of ``real_eval.json``."""
    shown = [k for k, n in result["wake_word_clips"].items() if n]  # keywords with clips to measure
    speech = result["speech"]
    shipped = ", ".join(f"{k} {t:.4g}" for k, t in result["thresholds_as_shipped"].items())
    lines = [f"checkpoint {result['checkpoint']} (thresholds as shipped: {shipped})",
             "wake-word clips: " + (", ".join(f"{k} {result['wake_word_clips'][k]}" for k in shown) or "none the "
                                    "model knows") + f" (from {result['positives'] or result['set']})"]
    if speech["hours"] is not None:
        lines.append(f"speech: {speech['hours']:.2f} h, {speech['clips']} clips of {result['set']} "
                     f"({speech['left_out_saying_a_keyword']} left out: they say a keyword)")
    lines += ["", row("operating point", ["threshold", *shown, "overall", "FA/h"])]
    points = result["operating_points"]
    oracle = points["oracle"]
    named = [("as shipped", points["as_shipped"]), ("threshold 0.5", points["threshold_0.5"])]
    if speech["hours"] is not None:  # without speech there are no false alarms to sweep for
        named.append((f"<= {oracle['target_fa_per_hour']:g} FA/h, swept on this set (oracle)", oracle["point"]))
    for label, point in named:
        if point is None:
            lines.append(row(label, ["not reached"]))
            continue
        recalls = [percent(point["per_keyword"][k]["recall"]) for k in shown]
        lines.append(row(label, [threshold_cell(point, result["thresholds_as_shipped"]), *recalls,
                                 percent(point["recall"]), rate(point["fa_per_hour"])]))
    alone = points["oracle_per_keyword"]["points"]
    if speech["hours"] is not None and shown:
        lines.append(row(f"each keyword alone, <= {oracle['target_fa_per_hour']:g} FA/h (oracle)",
                         ["", *(percent(alone[k]["recall"]) if alone[k] else "-" for k in shown)]))
    lines.append(f"\nfull figures: {result['output_dir']}")
    return "\n".join(lines)
