"""Tests of bot.authoring (mirrors the package)."""
