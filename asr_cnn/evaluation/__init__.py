"""Evaluation: clip metrics, wake-word operating points and DET sweeps over streams, real-speech evaluation.

Streams are scored once (:mod:`~asr_cnn.evaluation.scoring`); :mod:`~asr_cnn.evaluation.sweep` replays the
detector's own event picking on the stored scores at any threshold.
"""
