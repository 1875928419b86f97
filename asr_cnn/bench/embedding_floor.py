"""``python -m asr_cnn.bench embedding_floor --speech DIR``: what the streaming front end's fixed floor changes.

``melspectrogram.onnx`` clips every call's output at 80 dB below that call's loudest value, which
cannot stream; ``SpeechEmbeddingMel`` streams with a fixed floor instead. This measures, on real
speech, how far the embeddings move: the reference is the graph's clip applied to each 76-frame
window on its own (one call per window, as a peer recomputing the window does), compared with

* the fixed floors given (streaming, ``top_db=None``), and
* the graph's clip applied once per clip (as a peer computing a whole file's features in one call does).

Prints, per variant, the max and mean absolute embedding difference and the cosine similarity (min,
mean, windows below 0.99). Use negatives that may be tuned on (``../shared/realnegatives/speech``),
never evaluation speech.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from asr_cnn.audio import load_audio
from asr_cnn.frontend import SpeechEmbeddingMel
from asr_cnn.models import SpeechEmbedding

HOP = 1280  # samples between embeddings
WINDOW = 512 + 75 * 160  # samples of one embedding's 76 frames
ONNX_FLOOR_DB, ONNX_TOP_DB = -100.0, 80.0  # the graph's 1e-10 power clip and its per-call clip


def report(name: str, got: torch.Tensor, reference: torch.Tensor) -> None:
    """One line of differences between embeddings (N, 96)."""
    diff = (got - reference).abs()
    cosine = torch.nn.functional.cosine_similarity(got, reference, dim=-1)
    print(f"{name:28s} max {diff.max():8.4f}  mean {diff.mean():8.5f}  cosine min {cosine.min():.4f} "
          f"mean {cosine.mean():.5f}  < 0.99: {int((cosine < 0.99).sum())}/{cosine.numel()}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench embedding_floor", description=__doc__)
    parser.add_argument("--speech", required=True, type=Path, help="folder of speech recordings (searched recursively)")
    parser.add_argument("--every", type=int, default=10, help="take every n-th file, sorted by path")
    parser.add_argument("--seconds", type=float, default=8.0, help="audio read from each file")
    parser.add_argument("--floors", type=float, nargs="+", default=[-100.0, 0.0, 5.0, 10.0, 15.0, 20.0],
                        help="fixed floors to compare, dB of int16-scaled power")
    args = parser.parse_args(argv)

    files = sorted(p for p in args.speech.rglob("*") if p.suffix.lower() in (".wav", ".flac", ".ogg", ".opus"))
    files = files[:: args.every]
    if not files:
        raise SystemExit(f"{args.speech}: no .wav/.flac/.ogg/.opus files")
    torch.set_num_threads(1)
    backbone = SpeechEmbedding(32, trainable_blocks=0).eval()
    exact = SpeechEmbeddingMel(ONNX_FLOOR_DB, ONNX_TOP_DB)
    variants = {f"fixed floor {floor:g} dB": SpeechEmbeddingMel(floor, None) for floor in args.floors}
    rows: dict[str, list[torch.Tensor]] = {name: [] for name in ["reference", "clip per file", *variants]}
    with torch.inference_mode():
        for path in files:
            wave = load_audio(path)[: int(args.seconds * 16_000)]
            if wave.shape[0] < WINDOW:
                continue
            starts = range(0, wave.shape[0] - WINDOW + 1, HOP)
            windows = torch.stack([wave[s:s + WINDOW] for s in starts])  # (N, WINDOW): one call each
            rows["reference"].append(backbone(exact(windows))[..., 0])  # (N, 96)
            rows["clip per file"].append(backbone(exact(wave[None]))[0].T)  # (96, N) -> (N, 96)
            for name, frontend in variants.items():
                rows[name].append(backbone(frontend(wave[None]))[0].T)
    reference = torch.cat(rows.pop("reference"))
    print(f"{len(files)} files, {reference.shape[0]} embeddings, mean |embedding| {reference.abs().mean():.2f}; "
          "reference: the graph's 80 dB clip on each window alone")
    for name, parts in rows.items():
        report(name, torch.cat(parts), reference)
    return 0
