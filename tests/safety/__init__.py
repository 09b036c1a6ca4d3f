"""Tests of bot.safety (mirrors the package)."""
