"""``python -m asr_cnn.bench voices``: speed and intelligibility of every synthesis engine installed here.

For each engine and a few of its voices, in this process on one thread: the load time, utterances per
second and times real time over single words (the corpus's unit of work), counted in CPU seconds of
this process and the programs it runs (so a busy machine does not skew them), and, with ``pocketsphinx``
installed (its wheel ships an English model), the share of words that it recognises when choosing among
all the words of the test (a closed-vocabulary check, so a relative figure between engines, not an
absolute one). Engines that cannot run here are listed with the reason.
"""

from __future__ import annotations

import argparse
import importlib.util
import os

import numpy as np
import torch

from asr_cnn.constants import SAMPLE_RATE
from asr_cnn.data.acoustics.clips import trim_silence
from asr_cnn.data.voices.engines import ENGINES, Engine, EngineError, make_engine
from asr_cnn.data.voices.engines.kokoro import blend_name
from asr_cnn.threads import torch_threads

WORDS = ("hello", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "computer", "athena",
         "amelia", "alexa", "seven", "house", "water", "morning", "yellow", "window", "music", "paper", "garden",
         "happy", "letter", "number", "people", "river", "table", "tomorrow", "weather")
"""Test words: the default keywords, wake words, and common words of similar length (all in cmudict)."""

VOICES = {"espeak": ["en-us+m3", "en-us+f2", "en+klatt", "en-gb-scotland+Andy"], "piper": ["joe"],
          "flite": ["slt", "rms", "awb", "kal16"], "hibari": ["heart"],
          "kokoro": ["jf_alpha", "jm_kumo", blend_name(0), blend_name(1), "am_adam", "bf_emma"]}
"""Voices measured per engine (kokoro: two of the wheel's packs, two blends of them, two of kokoro-js's)."""

OPTIONS = {"espeak": {"variants": []}, "kokoro": {"blends": 0}}


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes (flite runs as a program)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def recognizer(words: tuple[str, ...]):
    """A pocketsphinx decoder limited to ``words``, or ``None`` without pocketsphinx."""
    if importlib.util.find_spec("pocketsphinx") is None:
        return None
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    decoder.add_jsgf_string("words", f"#JSGF V1.0;\ngrammar words;\npublic <word> = ( {' | '.join(words)} );\n")
    decoder.activate_search("words")
    return decoder


def recognize(decoder, wave: torch.Tensor) -> str:
    """The word pocketsphinx hears in ``wave`` (a short pause added either side).

    Shape:
        wave: (S,) at ``SAMPLE_RATE``.
    """
    pause = torch.zeros(SAMPLE_RATE // 4)
    padded = torch.cat([pause, wave / wave.abs().max().clamp_min(1e-6) * 0.5, pause])
    pcm = (padded.numpy() * 32767).astype(np.int16).tobytes()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return decoder.hyp().hypstr if decoder.hyp() else ""


def measure(engine: Engine, voice: str, words: tuple[str, ...], decoder) -> tuple[float, float, int]:
    """CPU seconds of synthesis, seconds of (trimmed) speech, and words recognised."""
    busy = audio = 0.0
    heard = 0
    for seed, word in enumerate(words):
        start = cpu_seconds()
        wave = engine.synthesize(word, voice, seed=seed)
        busy += cpu_seconds() - start
        speech = trim_silence(wave)
        audio += speech.shape[0] / SAMPLE_RATE
        heard += decoder is not None and recognize(decoder, speech) == word
    return busy, audio, heard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench voices", description=__doc__)
    parser.add_argument("--engines", nargs="*", default=sorted(VOICES), help="engines to measure")
    parser.add_argument("--words", type=int, default=len(WORDS), help="test words per voice (first N)")
    args = parser.parse_args(argv)
    words = WORDS[:args.words]
    decoder = recognizer(WORDS)
    print(f"{len(words)} words per voice, one thread, CPU seconds; intelligibility: "
          + ("pocketsphinx, closed vocabulary of the test words" if decoder else "skipped (pip install pocketsphinx)"))
    print(f"{'engine':8s} {'voice':40s} {'load s':>7s} {'utt/s':>7s} {'x real':>7s} {'heard':>6s}")
    with torch_threads(1):
        for name in args.engines:
            problem = ENGINES[name].available()
            if problem:
                print(f"{name:8s} not available: {problem}")
                continue
            start = cpu_seconds()
            engine = make_engine(name, **OPTIONS.get(name, {}))
            engine.synthesize("warm up", VOICES[name][0])  # loads the model, so load time is counted apart
            load = cpu_seconds() - start
            for voice in VOICES[name]:
                try:
                    busy, audio, heard = measure(engine, voice, words, decoder)
                except EngineError as err:
                    print(f"{name:8s} {voice:40s} failed: {err}")
                    continue
                heard_text = f"{heard / len(words):6.0%}" if decoder else f"{'-':>6s}"
                print(f"{name:8s} {voice:40s} {load:7.2f} {len(words) / busy:7.1f} {audio / busy:7.1f} {heard_text}")
                load = 0.0
    return 0
