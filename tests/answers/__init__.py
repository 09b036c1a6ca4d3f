"""Tests of bot.answers (mirrors the package)."""
