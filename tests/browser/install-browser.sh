#!/bin/sh
# Installs what the browser tests (tests/browser/) need from the system: Debian's
# headless Chromium and the Noto CJK fonts (without them Japanese renders as boxes).
# `playwright install` cannot download here, so the browser comes from apt.
# Usage: install-browser.sh STAMP. Touches STAMP once both are there. Not root (a laptop):
# one line, exit 0, no stamp, and the browser tests skip. As root a failing apt-get fails.
set -e
have_browser() { command -v chromium-headless-shell >/dev/null 2>&1; }
have_fonts() { [ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto | grep -q CJK; }

if have_browser && have_fonts; then
    touch "$1"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "kakekomi: no chromium-headless-shell/fonts-noto-cjk (install them as root with apt-get); the browser tests will be skipped"
    exit 0
fi
echo "kakekomi: installing chromium-headless-shell and fonts-noto-cjk with apt-get"
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    chromium-headless-shell fonts-noto-cjk >/dev/null
have_browser && have_fonts && touch "$1"
