"""What people answer: dates and times typed in words, and the consultation memo."""

from ._datetimes import JST, When, format_when, parse_when, parse_when_ex
from ._memo import memo_document, render_memo
from ._text import split_text, utf16_len

__all__ = ["JST", "When", "format_when", "memo_document", "parse_when", "parse_when_ex",
           "render_memo", "split_text", "utf16_len"]
