"""Tests of bot.engine (mirrors the package)."""
