"""Reliability: crashes, faults, fuzzing and load, end to end."""
