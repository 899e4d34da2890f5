"""`asl bench-profile`: what a signer profile gains for a signer the models never saw.

Each row is a model folder trained without one set (a leave-one-set-out row: `asl.int8.onnx` and its
`asl.landmarks.onnx`) and that set. The profile is made of the first K pictures with a hand of each of
the set's letters (its training part, in frame order, as `asl calibrate --per-letter K` takes them);
it is scored on the set's validation part (the last 20% of each letter's frames, every letter the set has),
which it never saw, without and with the profile: landmarks alone and fused, as the runtime reads them.
Each column is also read adapted to the signer without labels ("adapted"): the set's pictures read together as
`asl predict --adapt` reads a folder (`fuse_adapted` over every picture with a hand), scored on the same part.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from asl.benchmarks.words import WordsConfig, run_words
from asl.data import CLASSES
from asl.data.folders import find_images
from asl.data.hand_cache import CROP_SIZE, track_set
from asl.data.profiles import first_per_letter, profile_of
from asl.data.split import frame_block_split
from asl.runtime.landmark_classifier import fuse, fuse_adapted, partner_path
from asl.runtime.progress import Progress
from asl.runtime.recognizer import CROP_MARGIN, NO_HAND, Recognizer
from asl.runtime.scoring import answers_where_found
from asl.runtime.signer_profile import MIN_LIVE_HANDS
from asl.runtime.tracker import HandTracker

VAL_FRACTION = 0.2   # as training's frame-block split
# `live --adapt`: the profile a camera session has grown after this many hands, letters signed a run at a time
LIVE_HANDS = (100, 200, 400, 800)
LIVE_RUN, LIVE_SEEDS = 15, (0, 1, 2)


def session_order(labels: np.ndarray, rows: np.ndarray, run: int, seed: int) -> np.ndarray:
    """`rows` (in frame order) as one signer's session: `run` consecutive frames of a letter at a time, the letters
    in a random order, round after round until every frame is used."""
    rng = np.random.default_rng(seed)
    left = {c: list(rows[labels[rows] == c]) for c in np.unique(labels[rows])}
    order: list[int] = []
    while any(left.values()):
        for c in rng.permutation(sorted(left)):
            order += left[c][:run]
            left[c] = left[c][run:]
    return np.array(order, np.int64)


def row_report(model: Path, data: str | os.PathLike, per_letter: list[int], tracker: HandTracker,
               threads: int | None = None, progress: Progress | None = None, letters: list[str] | None = None,
               words: WordsConfig | None = None) -> dict:
    """One row: top-1 on the set's validation part, landmarks alone and fused, without a profile and with one
    of each size in `per_letter` (of `letters` only, when given: a profile of the letters a signer sees misread)."""
    recognizer = Recognizer(model, provider="cpu", threads=threads, tracker=tracker, landmarks=partner_path(model))
    classifier = recognizer.landmarks
    reads_embedding = recognizer.reads_embedding   # as the runtime reads these hands
    image_set = find_images(data)
    hands = track_set(image_set, tracker, CROP_SIZE, CROP_MARGIN, progress=progress)
    kept = [image_set.samples[i] for i in hands.kept]
    labels = np.array([s.label for s in kept], np.int64)
    # Every letter the set has, grey_wall's other-alphabet ones too (training leaves them out): a signer's own letters
    # are what a profile is for.
    train, val = (np.array(part, np.int64) for part in frame_block_split(kept, VAL_FRACTION))
    with_hand = val[hands.found[val]]
    everyone = np.flatnonzero(hands.found)   # --adapt reads the signer's whole folder
    crop = recognizer.logits(hands.crops[everyone])
    in_val = np.isin(everyone, with_hand)
    nothing = CLASSES.index(NO_HAND)

    def top1(scores: np.ndarray) -> float:
        return round(float((answers_where_found(hands.found[val], scores, nothing) == labels[val]).mean()), 4)

    def scores() -> dict:
        inputs = hands.classifier_inputs(everyone, reads_embedding)
        shape = classifier.log_probabilities(*inputs)[in_val]
        result = {"landmarks": top1(shape), "fused": top1(fuse(crop[in_val], shape, classifier.fusion_weight)),
                  "adapted": top1(fuse_adapted(crop, classifier, None, *inputs)[in_val])}
        if words is not None:   # the same signer spelling words from those validation frames (bench-words --val-only)
            result["words"] = spelled(recognizer, words, data, adapt=False)
        return result

    report = {"set": image_set.name, "model": str(model), "val": int(len(val)), "none": scores()}
    train = train[hands.found[train]]
    session = train   # live --adapt: the signer's whole training part, whatever letters a profile shows
    if letters:
        train = train[np.isin(labels[train], [CLASSES.index(letter) for letter in letters])]
    for k in per_letter:
        classifier.use_profile(profile_of(classifier, hands, first_per_letter(labels, train, k), labels, reads_embedding))
        report[f"first {k}"] = scores()
    classifier.use_profile(None)
    if words is not None:   # the words spelled as `live --adapt` reads them: the signer's session grows as they sign
        report["none"]["words live"] = spelled(recognizer, words, data, adapt=True)
    report["live"] = live_scores(classifier, hands.classifier_inputs(everyone, reads_embedding), labels, session, crop,
                                 everyone, in_val, top1)
    return report


def spelled(recognizer, words: WordsConfig, data, adapt: bool) -> dict:
    """Words the signer of `data` types with its validation frames (`bench-words --val-only [--adapt]`)."""
    row = run_words(replace(words, sets=[Path(data)], val_only=True, adapt=adapt), recognizer)["sets"][0]
    return {"frame_top1": round(row["frame_top1"], 4), "exact": row["rules"]["speller"]["exact"],
            "with_insertion": row["rules"]["speller"]["words_with_insertion"], "n": row["words"]}


def live_scores(classifier, inputs, labels, train, crop, everyone, in_val, top1) -> dict:
    """`live --adapt`: the validation part (`in_val` of `everyone`) read with the adaptive profile a session of
    the training part's hands (`train`) has grown after each of `LIVE_HANDS` hands (`session_order`, seeds
    averaged)."""
    rows = {r: i for i, r in enumerate(everyone)}
    shape, hidden = classifier.read(*inputs)
    first = fuse(crop, shape, classifier.fusion_weight)
    result = {}
    for n in LIVE_HANDS:
        reached = []
        for seed in LIVE_SEEDS:
            session = np.array([rows[r] for r in session_order(labels, train, LIVE_RUN, seed)[:n]], np.int64)
            own = classifier.adaptive_profile(MIN_LIVE_HANDS).add(hidden[session], first[session])
            reached.append(top1(fuse(crop, own.adjust(shape, hidden), classifier.fusion_weight)[in_val]))
        result[str(n)] = round(float(np.mean(reached)), 4)
    return result


def profile_report(rows: list[tuple[Path, Path]], per_letter: list[int], threads: int | None = None,
                   progress: Progress | None = None, letters: list[str] | None = None,
                   words: WordsConfig | None = None) -> dict:
    tracker = HandTracker(provider="cpu", threads=1)
    reports = [row_report(model, data, per_letter, tracker, threads, progress, letters, words) for model, data in rows]
    columns = ["none"] + [f"first {k}" for k in per_letter]
    mean = {c: {kind: round(float(np.mean([r[c][kind] for r in reports])), 4) for kind in ("landmarks", "fused", "adapted")}
            for c in columns}
    if words is not None:
        for c in columns:
            mean[c]["words"] = {k: round(float(np.mean([r[c]["words"][k] for r in reports])), 4)
                                for k in ("frame_top1", "exact", "with_insertion")}
        mean["none"]["words live"] = {k: round(float(np.mean([r["none"]["words live"][k] for r in reports])), 4)
                                      for k in ("frame_top1", "exact", "with_insertion")}
    mean["live"] = {n: round(float(np.mean([r["live"][n] for r in reports])), 4) for n in reports[0]["live"]}
    return {"rows": reports, "mean": mean, "columns": columns, "letters": letters or "all"}


def markdown(report: dict) -> str:
    columns = report["columns"]
    head = " | ".join(f"{'no profile' if c == 'none' else c + ' a letter'}" for c in columns)
    lines = ["# A signer profile on signers the models never saw", "",
             "Top-1 on each held-out set's validation part (the last 20% of each letter's frames), fused int8 "
             "(landmarks alone in brackets); the profile is made of the first pictures of "
             + ("each letter" if report["letters"] == "all" else "each of " + ", ".join(report["letters"]))
             + " (`asl bench-profile`, benchmarks/profiles.py).", "",
             f"| held-out set | pictures | {head} |", "| --- | ---: |" + " ---: |" * len(columns)]
    for r in report["rows"] + [{"set": "**mean**", "val": "", **report["mean"]}]:
        cells = " | ".join(f"{100 * r[c]['fused']:.1f}% ({100 * r[c]['landmarks']:.1f}%)" for c in columns)
        lines.append(f"| {r['set']} | {r['val']} | {cells} |")
    lines += ["", "Adapted to the signer (`--adapt`, no labels), fused int8: the same, with the set read as one signer's "
              "pictures, as `asl predict --adapt` reads a folder (every picture with a hand read again with the profile "
              "of the set's own hands, each standing for the letter it was first read as):", "",
              f"| held-out set | {head} |", "| --- |" + " ---: |" * len(columns)]
    for r in report["rows"] + [{"set": "**mean**", **report["mean"]}]:
        lines.append(f"| {r['set']} | " + " | ".join(f"{100 * r[c]['adapted']:.1f}%" for c in columns) + " |")
    live = list(report["mean"]["live"])
    lines += ["", "`live --adapt`: the same part read with the profile a camera session grows (letters not in the profile "
              f"until {MIN_LIVE_HANDS} hands were read as them), after so many of the signer's hands: the set's training "
              f"part signed {LIVE_RUN} frames of a letter at a time, letters in a random order (seeds "
              f"{', '.join(map(str, LIVE_SEEDS))} averaged), no labels, no profile of the user's:", "",
              "| held-out set | no adapting | " + " | ".join(f"after {n} hands" for n in live) + " |",
              "| --- | ---: |" + " ---: |" * len(live)]
    for r in report["rows"] + [{"set": "**mean**", **report["mean"]}]:
        lines.append(f"| {r['set']} | {100 * r['none']['fused']:.1f}% | " + " | ".join(f"{100 * r['live'][n]:.1f}%" for n in live) + " |")
    if "words" in report["mean"][columns[0]]:
        lines += ["", "Words typed exactly by the same signers (`--words`: 40 common words a set, spelled with the "
                  "validation frames as `asl bench-words --val-only` spells them; frame top-1 in brackets):", "",
                  f"| held-out set | {head} |", "| --- |" + " ---: |" * len(columns)]
        for r in report["rows"] + [{"set": "**mean**", **report["mean"]}]:
            cells = " | ".join(f"{100 * r[c]['words']['exact']:.1f}% ({100 * r[c]['words']['frame_top1']:.1f}%)" for c in columns)
            lines.append(f"| {r['set']} | {cells} |")
        lines += ["", "The same words with no profile, spelled as `live --adapt` reads them (`bench-words --val-only --adapt`: "
                  "each set one signer's session, its words in order, letters joining the session's profile after "
                  f"{MIN_LIVE_HANDS} hands):", "", "| held-out set | no adapting | `live --adapt` |", "| --- | ---: | ---: |"]
        for r in report["rows"] + [{"set": "**mean**", **report["mean"]}]:
            lines.append(f"| {r['set']} | " + " | ".join(f"{100 * r['none'][k]['exact']:.1f}% ({100 * r['none'][k]['frame_top1']:.1f}%)"
                                                        for k in ("words", "words live")) + " |")
    return "\n".join(lines) + "\n"
