"""Every locale key the Python code names exists, in every language.

Flow files are checked at load; the engine's and channels' own texts are named in code,
where a typo would show the person a bare key ("engine.damaged.erase") instead of words.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import ROOT, content

# A quoted dotted name under a prefix the code owns: "engine.stale_button", "crisis.ask".
KEY = re.compile(r"""["']((?:engine|crisis|commands|memo|common|contacts)"""
                 r"""\.[a-z_][a-z0-9_.]*)["']""")
NOT_KEYS = {"engine.py", "contacts.schema.json", "memo.txt"}  # file names that look like keys


def keys_named_in_code() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for key in KEY.findall(line):
                if key.endswith(".") or key in NOT_KEYS:
                    continue  # a prefix ("engine.nav." + name), not a key
                found.setdefault(key, f"{path.relative_to(ROOT)}:{number}")
    return found


def test_the_scan_finds_the_engine_keys():
    keys = keys_named_in_code()
    assert {"engine.storage_error", "engine.damaged.erase", "crisis.ask"} <= set(keys)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_key_named_in_code_has_a_text(lang):
    texts = content().locales.values[lang]  # flat: "engine.nav.back" → text
    missing = {key: where for key, where in keys_named_in_code().items()
               if key not in texts and not any(k.startswith(key + ".") for k in texts)}
    assert not missing, f"no {lang} text for: {missing}"
