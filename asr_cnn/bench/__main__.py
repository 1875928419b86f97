"""Benchmarks: ``python -m asr_cnn.bench <name> [options]`` runs ``asr_cnn.bench.<name>.main``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import asr_cnn.bench


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(asr_cnn.bench.__path__) if not m.name.startswith("_"))
    if not argv or argv[0] not in names:
        print(f"usage: python -m asr_cnn.bench {{{','.join(names)}}} [options]", file=sys.stderr)
        return 2
    return importlib.import_module(f"asr_cnn.bench.{argv[0]}").main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
