"""The web chat's HTML: templates (package data) filled with escaped text, never markup.

Every value that reaches a page passes `html.escape` here; the templates hold no script
or style of their own (the Content-Security-Policy forbids inline ones).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from string import Template

from ...content import Content
from ...engine import Button, Reply
from ._branding import Branding


@cache
def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", name).read_text("utf-8"))


@cache
def static_file(name: str) -> bytes:
    """The bytes of static/<name> (app.js, app.css)."""
    return resources.files(__package__).joinpath("static", name).read_bytes()


def esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass
class Shown:
    """What one answer shows: the person's own line, the bot's messages, the buttons."""

    me: str | None = None
    bot: list[str] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    memo: bool = False
    notice: str | None = None
    again: bool = False  # offer "show where I was" (the buttons are not known here)


def shown(replies: list[Reply], me: str | None, content: Content, lang: str) -> Shown:
    """The replies of one turn, flattened for a page: the last buttons shown win."""
    out = Shown(me=me)
    for reply in replies:
        if reply.delete and not reply.messages:
            out.bot.append(content.locales.text(reply.lang, "engine.exit_done"))
        for message in reply.messages:
            if message.text:
                out.bot.append(message.text)
            if message.buttons:
                out.buttons = [list(row) for row in message.buttons]
            if message.document is not None:
                out.memo = True
    return out


class Pages:
    """Renders the chat page, the note on quick exit, and short notices."""

    def __init__(self, content: Content, branding: Branding, path: str):
        self.content = content
        self.branding = branding
        self.path = path

    def t(self, lang: str, key: str) -> str:
        return self.content.locales.text(lang, key)

    def title(self, lang: str) -> str:
        return self.branding.title.get(lang) or self.t(lang, "web.title")

    def other_lang(self, lang: str) -> str:
        langs = self.content.locales.languages
        return langs[(langs.index(lang) + 1) % len(langs)] if lang in langs else langs[0]

    def _common(self, lang: str) -> dict[str, str]:
        return {
            "lang": esc(lang),
            "path": esc(self.path),
            "title": esc(self.title(lang)),
            "exit_url": esc(self.branding.exit_url),
            "exit_label": esc(self.t(lang, "web.exit")),
            "back_label": esc(self.t(lang, "web.back_to_chat")),
        }

    def hidden(self, token: str, lang: str) -> str:
        return (
            f'<input type="hidden" name="token" value="{esc(token)}">'
            f'<input type="hidden" name="lang" value="{esc(lang)}">'
        )

    def chat(self, token: str, lang: str, view: Shown) -> bytes:
        lines = []
        if view.me:
            lines.append(f'<div class="msg me">{esc(view.me)}</div>')
        lines.extend(f'<div class="msg bot">{esc(text)}</div>' for text in view.bot)
        if view.notice:
            lines.append(f'<div class="msg bot notice">{esc(view.notice)}</div>')
        rows = "\n".join(
            '<div class="row">'
            + "".join(
                f'<button class="choice" name="button" value="{esc(b.data)}">'
                f"{esc(b.label)}</button>"
                for b in row
            )
            + "</div>"
            for row in view.buttons
        )
        hidden = self.hidden(token, lang)
        memo = ""
        if view.memo:
            memo = (
                f'<form id="memo-form" method="post" action="{esc(self.path)}memo">{hidden}'
                f'<button id="memo-download">{esc(self.t(lang, "web.memo_download"))}'
                "</button></form>"
            )
        if view.again:
            memo += (
                f'<form id="again-form" method="post" action="{esc(self.path)}">{hidden}'
                f'<button id="again" name="command" value="resume">'
                f"{esc(self.t(lang, 'web.show_again'))}</button></form>"
            )
        other = self.other_lang(lang)
        page = _template("page.html").substitute(
            self._common(lang),
            organisation=esc(self.branding.organisation),
            other_lang=esc(other),
            other_label=esc(self.t(lang, "web.lang_other")),
            exit_hint=esc(self.t(lang, "web.exit_hint")),
            exit_info=esc(self.t(lang, "web.exit_info")),
            log_label=esc(self.t(lang, "web.log_label")),
            choices_label=esc(self.t(lang, "web.choices_label")),
            messages="\n".join(lines),
            hidden=hidden,
            buttons=rows,
            memo_form=memo,
            say_label=esc(self.t(lang, "web.say_label")),
            send_label=esc(self.t(lang, "web.send")),
            keep_label=esc(self.t(lang, "web.keep")),
            keep_hint=esc(self.t(lang, "web.keep_hint")),
            forget_label=esc(self.t(lang, "web.forget")),
        )
        return page.encode("utf-8")

    def about_exit(self, lang: str) -> bytes:
        paragraphs = self.t(lang, "web.about_exit").split("\n\n")
        body = "\n".join(f"<p>{esc(p)}</p>" for p in paragraphs)
        return (
            _template("about-exit.html")
            .substitute(
                self._common(lang),
                heading=esc(self.t(lang, "web.about_exit_title")),
                body=body,
            )
            .encode("utf-8")
        )

    def notice(self, lang: str, key: str) -> bytes:
        return (
            _template("notice.html")
            .substitute(self._common(lang), message=esc(self.t(lang, key)))
            .encode("utf-8")
        )

    def brand_css(self) -> bytes:
        # The accent is checked to be #rgb/#rrggbb when web.yaml is loaded.
        return f":root {{ --accent: {self.branding.accent}; }}\n".encode("ascii")
