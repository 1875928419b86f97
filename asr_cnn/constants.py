"""Numbers that define the audio pipeline, named once.

Every module takes these as keyword defaults; nothing else in the package spells them out.
"""

SAMPLE_RATE = 16_000
"""Samples per second of every waveform inside asr_cnn."""

WIN_LENGTH = 400
"""Analysis window: 25 ms at 16 kHz."""

HOP_LENGTH = 160
"""Frame hop: 10 ms at 16 kHz."""

N_FFT = 512
"""FFT size; the window is zero-padded to it."""

N_MELS = 40
"""Mel bands of the default front end."""

N_MFCC = 13
"""Cepstral coefficients kept by the default MFCC front end."""

F_MIN = 20.0
"""Lowest mel filter edge in Hz."""

LOG_FLOOR = 1e-6
"""Added to the mel power before the log so silence stays finite."""

CLIP_SECONDS = 1.0
"""Length of one training utterance (the Speech Commands convention)."""

CLIP_SAMPLES = int(SAMPLE_RATE * CLIP_SECONDS)
