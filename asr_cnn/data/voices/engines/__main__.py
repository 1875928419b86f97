"""Fetch what the engines read but no wheel ships: kokoro-js's English voice packs (``make install`` runs this).

Pinned and sha256-checked at install time, so nothing is downloaded when a corpus is built.
"""

import sys

from asr_cnn.data.voices.engines import kokoro_js
from asr_cnn.data.voices.engines.base import EngineUnavailable

try:
    print(f"kokoro-js {kokoro_js.VERSION}: {kokoro_js.fetch()}")
except EngineUnavailable as err:
    sys.exit(str(err))
