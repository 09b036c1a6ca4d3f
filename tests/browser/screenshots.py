"""Phone-size pictures of the web chat for the README: `make screenshots`.

Starts a real `kakekomi serve` on 127.0.0.1 with a throw-away data folder, opens it in
Debian's headless Chromium at 390×844 (device scale 2) and saves, per language, the menu,
a middle step of the threatened route, and the crisis answer, into docs/screenshots/.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ._site import ROOT, Chat, Server, chromium, launch_args, text

OUT = ROOT / "docs" / "screenshots"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
CRISIS_WORDS = {"ja": "もう死にたい", "en": "I want to die"}


# The person's last words at the top of the screen, just under the sticky exit bar, so the
# picture shows what they said and the start of the answer.
_TO_LAST_TURN = """() => {
  const mine = document.querySelectorAll("#log .msg.me");
  if (!mine.length) return;
  mine[mine.length - 1].scrollIntoView({block: "start"});
  const bar = document.getElementById("exit").parentElement.getBoundingClientRect().bottom;
  window.scrollBy(0, -bar - 12);
}"""


def _shoot(page, path: Path) -> None:  # type: ignore[no-untyped-def]
    page.evaluate(_TO_LAST_TURN)
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    print(f"kakekomi: {path.relative_to(ROOT)}")


def take(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        server = Server(Path(tmp))
        browser = playwright.chromium.launch(**launch_args())
        try:
            for lang in ("ja", "en"):
                context = browser.new_context(**PHONE, locale="ja-JP" if lang == "ja" else "en-US")
                # Nothing leaves the machine, not even by mistake.
                context.route(lambda url: not url.startswith(server.url), lambda r: r.abort())
                page = context.new_page()
                page.goto(server.url + ("?lang=en" if lang == "en" else ""))
                _shoot(page, out / f"{lang}-menu.png")
                chat = Chat(page, lang)
                chat.press(text(lang, "menu.threatened"))
                chat.press(text(lang, "after.danger.no"))
                _shoot(page, out / f"{lang}-step.png")
                chat.say(CRISIS_WORDS[lang])
                _shoot(page, out / f"{lang}-crisis.png")
                context.close()
        finally:
            browser.close()
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    args = parser.parse_args(argv)
    if chromium() is None:
        print(
            "kakekomi: chromium-headless-shell is missing (make test installs it with apt as root)",
            file=sys.stderr,
        )
        return 2
    take(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
