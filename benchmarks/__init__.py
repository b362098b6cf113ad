"""Benchmarks of the engine against PyTorch (``make bench``); see ``bench.py``."""
