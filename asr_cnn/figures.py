"""Writing figures: every PNG of the project is a ``matplotlib.figure.Figure`` saved here.

Figures are built without pyplot, so plotting never needs a display and never touches global
matplotlib state.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

DPI = 110


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write a figure as PNG, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
