"""Benchmarks: latency (per backend, precision, provider, batch, threads) and accuracy parity reports."""
