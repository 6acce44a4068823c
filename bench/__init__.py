"""Benchmarks (``supportgym bench``): figures of every layer, measured; no pass/fail."""
