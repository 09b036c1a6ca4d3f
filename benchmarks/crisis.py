"""The crisis net: how fast detection is, and how well it does on the corpus.

    python -m benchmarks.crisis                  # latency over a realistic mix (JSON line)
    python -m benchmarks.crisis --report         # recall / false alarms, both corpus splits
    python -m benchmarks.crisis --report --split train

Latency is measured per message from raw text to the answer (``CrisisDetector.detect``:
normalisation, folding, the one combined search, and the exclusions when something
fired). The mix: short chat lines in both languages (most messages), paragraphs of a
few hundred characters, and 1 % of 4,000-character messages (the longest Telegram text the
bot takes in one piece, near its 4,096 limit), with and without a crisis cue.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .stats import ROOT, emit, percentile

CORPUS = ROOT / "docs" / "crisis-corpus"
SPLITS = ("train", "heldout")


def load_split(name: str, root: Path = ROOT) -> dict[str, list[dict[str, Any]]] | None:
    """One corpus split as {lang: [item]}, or None when the file is not there."""
    base = root / "docs" / "crisis-corpus"
    path = base / f"{name}.yaml"
    if path.exists():
        files = [path]
    elif (base / name).is_dir():  # a split made of several files (train/: one per writer)
        files = sorted((base / name).glob("*.yaml"))
    else:
        return None
    merged: dict[str, list[dict[str, Any]]] = {}
    for file in files:
        for lang, items in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).items():
            merged.setdefault(lang, []).extend(items or [])
    return merged


def detector(root: Path = ROOT):
    from bot._settings import languages
    from bot.safety._crisis import CrisisDetector

    files = {lang: root / "locales" / lang / "safety.yaml" for lang in languages(root)}
    values = {lang: yaml.safe_load(file.read_text(encoding="utf-8"))
              for lang, file in files.items() if file.is_file()}
    return CrisisDetector.from_locale_values(values)


def evaluate(det: Any, items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Recall (on cues), false alarms (on the rest), urgent recall, per category and in all."""
    cats: dict[str, dict[str, int]] = {}
    misses: list[str] = []
    for item in items:
        match = det.detect(item["text"])
        row = cats.setdefault(item["category"], {"n": 0, "fired": 0, "urgent_n": 0, "urgent_ok": 0})
        row["n"] += 1
        row["fired"] += bool(match)
        if item.get("urgent"):
            row["urgent_n"] += 1
            row["urgent_ok"] += bool(match and match.urgent)
        if bool(match) != bool(item["trigger"]):
            misses.append(item["text"])
        elif item.get("urgent") and not match.urgent:
            misses.append(item["text"] + "  [fired, not urgent]")
    pos = [c for c in cats if not c.startswith("neg_")]
    neg = [c for c in cats if c.startswith("neg_")]
    n_pos = sum(cats[c]["n"] for c in pos)
    n_neg = sum(cats[c]["n"] for c in neg)
    urgent_n = sum(r["urgent_n"] for r in cats.values())
    return {
        "categories": cats,
        "positives": n_pos, "negatives": n_neg,
        "recall": sum(cats[c]["fired"] for c in pos) / n_pos if n_pos else 1.0,
        "false_alarms": sum(cats[c]["fired"] for c in neg) / n_neg if n_neg else 0.0,
        "urgent_recall": (sum(r["urgent_ok"] for r in cats.values()) / urgent_n
                          if urgent_n else 1.0),
        "misses": misses,
    }


def table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Markdown: one row per language, then one per category (recall or false-alarm rate)."""
    lines = ["| split | language | cues | recall | ordinary | false alarms | urgent caught |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for key, r in results.items():
        split, lang = key.split("/")
        lines.append(f"| {split} | {lang} | {r['positives']} | {r['recall']:.1%} "
                     f"| {r['negatives']} | {r['false_alarms']:.1%} | {r['urgent_recall']:.0%} |")
    lines += ["", "| split | language | category | sentences | fired |", "|---|---|---|---:|---:|"]
    for key, r in results.items():
        split, lang = key.split("/")
        positives_first = sorted(r["categories"].items(),
                                 key=lambda kv: (kv[0].startswith("neg_"), kv[0]))
        for cat, row in positives_first:
            fired = row["fired"] / row["n"]
            lines.append(f"| {split} | {lang} | {cat} | {row['n']} | {fired:.0%} |")
    return "\n".join(lines)


def report(splits: Iterable[str] = SPLITS, root: Path = ROOT) -> tuple[str, dict[str, Any]]:
    det = detector(root)
    results = {}
    for split in splits:
        data = load_split(split, root)
        if data is None:
            continue
        for lang in ("ja", "en"):
            if data.get(lang):
                results[f"{split}/{lang}"] = evaluate(det, data[lang])
    return table(results), results


# ---- latency ------------------------------------------------------------------------------

SHORT_JA = ["インスタで知り合った人に写真を送ってしまった", "お金を払えと言われています",
            "どうしたらいいですか", "親にばれたくない", "もう死にたい", "警察に相談してもいいの？",
            "10万払えって言われた", "はい"]
SHORT_EN = ["he wants $500 or he'll post it", "what should I do", "I sent a photo to someone",
            "can the police help?", "I want to die", "yes", "my friend is 16", "thanks"]
PARA_JA = ("昨日インスタで知らない人とビデオ通話をしたら録画されていて、お金を払わないと友達に"
           "ばらまくと言われました。どうしたらいいかわかりません。")
PARA_EN = ("Yesterday I had a video call with someone I met on Instagram, he recorded it and now "
           "wants money or he will send it to my friends and family. ")


def mix(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(kind, text) pairs: 85 % short lines, 14 % paragraphs, 1 % 4,000-character messages."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.85:
            out.append(("short", rng.choice(SHORT_JA + SHORT_EN)))
        elif r < 0.99:
            para = rng.choice([PARA_JA, PARA_EN]) * rng.randint(2, 6)
            out.append(("paragraph", para))
        else:
            base = rng.choice([PARA_JA, PARA_EN, PARA_JA + PARA_EN])
            text = (base * (4000 // len(base) + 1))[:4000]
            if rng.random() < 0.5:  # a cue at the very end: the whole text is read
                text = text[:-10] + rng.choice(["死にたい", "kill myself", "薬を全部飲んだ"])
            out.append(("4000", text))
    return out


def latency(n: int) -> dict[str, Any]:
    started = time.perf_counter()
    det = detector()  # the first build in this process (later ones are cached)
    build_s = time.perf_counter() - started  # start-up waits this long (rules read, regex written)
    det.ready()  # the background compile: only a message sent before it is done waits
    compile_s = time.perf_counter() - started
    messages = mix(n)
    for _, text in messages[:200]:  # warm up
        det.detect(text)
    by_kind: dict[str, list[float]] = {}
    every: list[float] = []
    for kind, text in messages:
        started = time.perf_counter()
        det.detect(text)
        spent = (time.perf_counter() - started) * 1000
        every.append(spent)
        by_kind.setdefault(kind, []).append(spent)
    result: dict[str, Any] = {"scenario": "crisis", "messages": n}
    for name, values in [("all", every), *by_kind.items()]:
        values.sort()
        result[name] = {"n": len(values), "median_ms": percentile(values, 50),
                        "p99_ms": percentile(values, 99), "max_ms": values[-1]}
    result["build_s"] = build_s
    result["ready_s"] = compile_s
    return result


#: The share of false alarms the model may add on writers it was not fitted to, by script.
#: The rules already raise some (about 0.7 % in Japanese, up to 1.4 % in English on unseen
#: writers), and the two add up: the model's budget is what is left under a 2 % bar with a
#: margin — 0.75 % for Japanese text, 0.5 % for English.
MODEL_FALSE_ALARMS = {"ja": 0.0075, "en": 0.005}


def train_groups(root: Path = ROOT) -> dict[str, list[dict[str, Any]]]:
    """The train split by writer file (the model's thresholds are chosen writer by writer)."""
    groups = {}
    for path in sorted((root / "docs" / "crisis-corpus" / "train").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        groups[path.stem] = [item for items in data.values() for item in items or []]
    return groups


def fit_model(root: Path = ROOT) -> dict[str, Any]:
    """Fit the crisis n-gram model on train/ and write it beside the detector."""
    from bot.safety._crisis import fold
    from bot.safety._crisis_model import MODEL_FILE, corpus_digest, fit
    from bot.safety._textmatch import prepare

    model, report = fit(train_groups(root), lambda text: fold(prepare(text)),
                        max_false_alarms=MODEL_FALSE_ALARMS)
    train = root / "docs" / "crisis-corpus" / "train"
    model.meta["train_digest"] = corpus_digest(train.glob("*.yaml"))
    MODEL_FILE.write_text(model.to_json(), encoding="utf-8")
    return {"file": str(MODEL_FILE.relative_to(ROOT)), **model.meta}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crisis")
    parser.add_argument("--report", action="store_true",
                        help="recall and false alarms on the corpus")
    parser.add_argument("--split", choices=SPLITS, action="append",
                        help="only this split (repeatable)")
    parser.add_argument("--misses", action="store_true",
                        help="also list what the train split missed or wrongly fired on "
                             "(train only)")
    parser.add_argument("--n", type=int, default=20_000, help="messages in the latency mix")
    parser.add_argument("--fit", action="store_true",
                        help="fit the n-gram model on train/ and write "
                             "bot/safety/crisis_model.json")
    args = parser.parse_args(argv)
    if args.misses and args.split != ["train"]:
        parser.error("--misses is for the train split only: add --split train")
    if args.fit:
        print(json.dumps(fit_model(), ensure_ascii=False, indent=1))
        return 0
    if args.report:
        text, results = report(args.split or SPLITS)
        print(text)
        if args.misses:
            det = detector()
            for key, r in results.items():
                print(f"\n## {key}: {len(r['misses'])} wrong")
                for miss in r["misses"]:
                    text = miss.split("  [")[0]
                    print(f"- {miss}" + (f"   <- {det.find(text)}" if det.fires(text) else ""))
        return 0
    emit(latency(args.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
