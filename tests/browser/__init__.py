"""The web chat in a real browser: Playwright drives Debian's chromium-headless-shell."""
