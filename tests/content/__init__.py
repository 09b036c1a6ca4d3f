"""Tests of bot.content (mirrors the package)."""
