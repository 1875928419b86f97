"""The terminal summary of a real-speech evaluation: recall per keyword (worst first), false alarms per hour, and
how often other words fire."""

from __future__ import annotations

from typing import Any

LABEL_WIDTH = 44
CELL_WIDTH = 10
SHOWN_WORDS = 8  # other words listed by name in the table; real_eval.json has them all


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


def counted(part: dict[str, Any]) -> str:
    """``12.5% (3/24)`` of a share or a recall."""
    value = part["share"] if "share" in part else part["recall"]
    return f"{percent(value)} ({part.get('count', part.get('hits'))}/{part['clips']})"


def first_fire_lines(result: dict[str, Any]) -> list[str]:
    """Recall per keyword, worst first, a clip counting when the right keyword fires first; other words' firing."""
    lines = []
    if result["recall_worst_first"]:
        lines.append("as shipped, the right keyword first, worst word first: " + ", ".join(
            f"{row['keyword']} {counted(row)}" for row in result["recall_worst_first"]))
        wrong = sum(row["other_keyword_first"] for row in result["recall_worst_first"])
        lines.append(f"  another keyword fired first on {wrong} of these clips")
    others = result["other_words"]
    if others and others["clips"]:
        words = [(word, part) for word, part in others["per_word"].items() if part["count"]]  # most firing first
        most = ", ".join(f"{word} {counted(part)}" for word, part in words[:SHOWN_WORDS])
        lines.append(f"other words (no keyword of the model), as shipped: a keyword fires on {counted(others)} clips"
                     + (f"; most: {most}" if words else "")
                     + (f", ... {len(words) - SHOWN_WORDS} more words" if len(words) > SHOWN_WORDS else ""))
        lines.append("  first to fire: " + (", ".join(f"{k} {n}" for k, n in others["first_keywords"].items())
                                           or "none"))
    return lines


def format_table(result: dict[str, Any]) -> str:
    """Lines for the terminal from the content of ``real_eval.json``; keywords are listed worst first."""
    shown = [row["keyword"] for row in result["recall_worst_first"]]  # keywords with clips to measure
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
    lines += ["", *first_fire_lines(result), f"\nfull figures: {result['output_dir']}"]
    return "\n".join(lines)
