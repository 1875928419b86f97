"""Scanning a spotter over long audio: the naive reference, one offline pass, and true streaming."""

from asr_cnn.streaming.scan import naive_scan, num_windows, scan
from asr_cnn.streaming.scanner import StreamingScanner

__all__ = ["StreamingScanner", "naive_scan", "num_windows", "scan"]
