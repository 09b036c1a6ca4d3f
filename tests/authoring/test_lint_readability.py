"""Japanese a 12-year-old can read, legal lines with their sources, messages that fit a phone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.authoring._lint import is_error, lint
from bot.authoring._readability import KANJI_FILE, kyoiku_kanji, names_a_law, unglossed_words
from tests.helpers import ROOT

GRADE_SIZES = [80, 160, 200, 202, 193, 191]  # 学年別漢字配当表 (2020)


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    for folder in ("flows", "locales", "contacts"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def warnings_about(root: Path, words: str) -> list[str]:
    return [str(p) for p in lint(root) if not is_error(p) and words in p.message]


def test_the_primary_school_kanji_list_has_exactly_1026_unique_characters_in_six_grades():
    grades = [line.strip() for line in KANJI_FILE.read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    assert [len(g) for g in grades] == GRADE_SIZES
    assert len(set("".join(grades))) == 1026 == len(kyoiku_kanji())
    assert {"学", "愛", "警", "法", "律", "談"} <= kyoiku_kanji()
    assert not {"脅", "迫", "歳", "撮", "削", "戻", "誰"} & kyoiku_kanji()


def test_a_word_beyond_primary_school_needs_its_reading_the_first_time():
    assert unglossed_words("脅迫されたら相談してください") == ["脅迫"]
    assert unglossed_words("脅迫（きょうはく）されたら、脅迫のことを話して") == []
    assert unglossed_words("脅（おど）されても、脅しに乗らない") == []
    assert unglossed_words("学校の先生に話す") == []
    # a reading given later does not excuse the first use
    assert unglossed_words("脅迫です。脅迫（きょうはく）") == ["脅迫"]


def test_lint_names_file_line_and_word_on_a_text_a_minor_reads(content_copy: Path):
    ja = content_copy / "locales" / "ja" / "selfcheck.yaml"
    edit(ja, "      断（ことわ）るときは、短くてだいじょうぶです。",
         "      拒絶するときは、短くてだいじょうぶです。")
    found = warnings_about(content_copy, "kanji beyond primary school")
    line = next(n for n, text in enumerate(ja.read_text(encoding="utf-8").splitlines(), 1)
                if "say_no:" in text)
    assert any(w.startswith(f"locales/ja/selfcheck.yaml:{line}:") and "拒絶" in w for w in found)


def test_my_texts_are_plain_for_minors():
    mine = ("locales/ja/selfcheck.yaml", "locales/ja/menu.yaml", "locales/ja/common.yaml",
            "locales/ja/engine.yaml")
    found = [w for w in warnings_about(ROOT, "kanji beyond primary school") if w.startswith(mine)
             and "'contacts_now." not in w]
    assert found == []


def test_a_legal_line_without_sources_is_a_warning(content_copy: Path):
    flow = content_copy / "flows" / "selfcheck.yaml"
    text = flow.read_text(encoding="utf-8")
    start = text.index("      - text: selfcheck.young.dont\n")
    end = text.index("    buttons:", start)
    flow.write_text(text[:start] + "      - selfcheck.young.dont\n" + text[end:], encoding="utf-8")
    found = warnings_about(content_copy, "mentions the law")
    assert any("'selfcheck.young.dont'" in w and w.startswith("flows/selfcheck.yaml:")
               for w in found)
    assert not any("'selfcheck.young.dont'" in w for w in warnings_about(ROOT, "mentions the law"))


@pytest.mark.parametrize(("lang", "text", "named"), [
    ("ja", "刑法182条で罰（ばっ）せられます", "刑法"),
    ("ja", "これは児童ポルノ禁止法の話です", "児童ポルノ禁止法"),
    ("ja", "東京都青少年健全育成条例では", "条例"),
    ("ja", "私事性的画像記録の提供等による被害の防止に関する法律で", "に関する法律"),
    ("ja", "同じ法律の第7条で", "第7条"),
    ("en", "under the Penal Code", "Penal Code"),
    ("en", "Act on the Prevention of Damage", "Act on"),
    ("en", "the Sexual Image Recording Act punishes", "Act"),
    ("en", "Article 7 says", "Article 7"),
    ("en", "(same Act, art. 7(1))", "Act"),
    ("en", "many prefectures' ordinances", "ordinances"),
])
def test_naming_a_law_or_an_article_needs_a_source(lang: str, text: str, named: str):
    assert names_a_law(text, lang) == named


@pytest.mark.parametrize(("lang", "text"), [
    ("ja", "※一般的な情報です。一人ひとりの法律相談（法的な助言）ではありません。"),
    ("ja", "法律の助言ではありません"),
    ("ja", "法テラス・サポートダイヤル 0570-078374"),
    ("ja", "消してもらう方法を教えてくれる"),
    ("ja", "関係しそうな法律のラインだけをお見せします"),
    ("ja", "3つの条件があります"),
    ("en", "This is general information, not legal advice."),
    ("en", "The law protects you; a lawyer can help."),
    ("en", "The sooner you act, the more they can try."),
])
def test_a_disclaimer_or_a_passing_mention_of_the_law_is_not_a_legal_line(lang: str, text: str):
    assert names_a_law(text, lang) is None


def test_the_not_legal_advice_line_raises_no_warning_but_a_summary_without_its_source_does(
        content_copy: Path):
    assert not [w for w in warnings_about(ROOT, "mentions the law") if "crime.disclaimer" in w]
    flow = content_copy / "flows" / "crime_lines.yaml"
    text = flow.read_text(encoding="utf-8")
    first = "      - text: crime.summary.art182\n"
    start = text.index(first) + len(first)
    end = text.index("      - text: crime.summary.revenge", start)
    kept = "".join(line + "\n" for line in text[start:end].splitlines()
                   if line.startswith("        if:") or line.startswith("          "))
    kept = "".join(line + "\n" for line in kept.splitlines()
                   if not line.lstrip().startswith(("- law:", "article:", "url:")))
    flow.write_text(text[:start] + kept + text[end:], encoding="utf-8")
    found = warnings_about(content_copy, "mentions the law")
    assert any("'crime.summary.art182'" in w and "'刑法'" in w for w in found), found


def test_a_message_too_long_for_a_phone_is_a_warning(content_copy: Path):
    en = content_copy / "locales" / "en" / "selfcheck.yaml"
    edit(en, "    Saying no can be short.", "    Saying no can be short. " + "Really. " * 110)
    found = warnings_about(content_copy, "characters at once")
    assert any("state 'young_no'" in w and "in 'en' (more than 1000)" in w for w in found), found
    assert not any("state 'young_no'" in w for w in warnings_about(ROOT, "characters at once"))


def test_the_guardians_flow_is_written_for_grown_ups_so_its_kanji_are_not_flagged(
    content_copy: Path,
):
    def about_guardians(root: Path) -> list[str]:
        return [w for w in warnings_about(root, "kanji beyond primary school")
                if "'guardians." in w]

    assert not about_guardians(ROOT)
    edit(content_copy / "flows" / "guardians.yaml", "readers: guardian\n", "")
    found = about_guardians(content_copy)
    assert any("'guardians.never.part2'" in w and "証拠" in w for w in found), found


def test_a_guardian_text_is_still_covered_by_the_age_proof(content_copy: Path):
    flow = content_copy / "flows" / "guardians.yaml"
    edit(flow, "  rules:\n", "  rules:\n    audience: adult\n")
    errors = [str(p) for p in lint(content_copy) if is_error(p)]
    assert any(e.startswith("flows/guardians.yaml:") and "can be shown when age is" in e
               and "guardians.rules.text" in e for e in errors), errors


def test_readers_takes_only_guardian(content_copy: Path):
    flow = content_copy / "flows" / "guardians.yaml"
    edit(flow, "readers: guardian\n", "readers: parents\n")
    line = next(n for n, text in enumerate(flow.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("readers:"))
    errors = [str(p) for p in lint(content_copy) if is_error(p)]
    # The schema check speaks first (lint runs it before the loader and reports a line once).
    assert any(e.startswith(f"flows/guardians.yaml:{line}:") and "readers" in e and "parents" in e
               for e in errors), errors
