"""Benchmarks: each runs the emulator in its own process and clients in fresh processes."""
