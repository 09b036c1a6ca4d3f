"""Tests of the channels: terminal, Telegram, the web chat and the HTTP listener."""
