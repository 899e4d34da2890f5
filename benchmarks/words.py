"""Words benchmark: fingerspelled words built from an image set, spelled by the live path.

A word is a video: each letter held for `letter_seconds` at `fps`, its frames a run of one set's
images of that letter in frame order (one person spells the word), each letterboxed into a 640×480
camera frame. A doubled letter (the LL of HELLO) has `release_seconds` between with no hand in view.
The frames come from the validation part (the frame-block split's last 20%) of the sets the model
trained on, and from the whole of the others.

Each distinct image is named once by the recognizer; the predictions are replayed through the
speller (asl.runtime.spelling) and, as the baseline in the same run, through the rule it replaced:
a sign typed after 8 frames in a row at 0.6 or more, released by 4 frames of anything else.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median

import cv2
import numpy as np

from asl.data.cache import default_cache_dir, set_key
from asl.data.classes import CLASSES
from asl.data.folders import ImageSet, find_images
from asl.data.hand_cache import CACHE_VERSION as HAND_CACHE_VERSION
from asl.data.split import frame_block_split
from asl.runtime.files import check_output_dir, write_atomic
from asl.runtime.image import ImageError, read_image
from asl.runtime.recognizer import Prediction
from asl.runtime.spelling import Speller, SpellerConfig

# Common words over the whole alphabet (J, Q, X, Z included); doubled letters test the release.
WORDS = (
    "HELLO WORLD THANK YOU PLEASE SORRY HELP NAME FRIEND FAMILY WATER FOOD HOME SCHOOL WORK BOOK GOOD "
    "COFFEE APPLE MOTHER FATHER SISTER BABY LOVE HAPPY YES STOP MORE AGAIN TIME DAY NIGHT WEEK YEAR CAT "
    "DOG FISH BIRD HORSE TREE SUN RAIN SNOW WIND BLUE RED GREEN BLACK WHITE PINK QUICK QUIET QUEEN JUMP "
    "JUICE JACKET ZOO ZERO PIZZA LAZY BOX FOX SIX TAXI EXIT KING KEY MILK PARK VOICE VIDEO SEVEN WAVE "
    "YELLOW TOY GIFT CHAIR TABLE PHONE MUSIC DANCE SMILE LIGHT DOOR ROOM CITY TOWN BUS CAR TRAIN PLANE "
    "MAP OPEN CLOSE SIGN HAND EDGE"
).split()

FRAME_SIZE = (640, 480)   # width, height: what a VGA webcam shows


@dataclass
class WordsConfig:
    sets: list[Path]
    words: list[str] = field(default_factory=lambda: list(WORDS))
    words_per_set: int = 40
    letter_seconds: float = 1.0
    release_seconds: float = 0.5     # no hand between the two letters of a doubled letter
    fps: float = 15.0
    image_rate: float = 15.0         # pictures a second of the signer's motion (the camera samples it at `fps`)
    seed: int = 0
    speller: SpellerConfig = field(default_factory=SpellerConfig)
    baseline_hold_frames: int = 8    # the rule replaced, in frames: today's defaults before the speller
    baseline_min_probability: float = 0.6
    baseline_break_frames: int = 4
    val_fraction: float = 0.2
    pool_per_letter: int = 16        # images a letter's frames cycle through (each predicted once)
    val_only: bool = False           # every set's validation part, trained on or not (its first frames make a profile)
    adapt: bool = False              # read as `live --adapt`: each set one signer's session, its words in order


class HoldFrames:
    """The rule the speller replaced, kept here only as the baseline: `hold` frames in a row at
    `min_probability`, one frame below starts again; `gap` frames of anything else before a repeat."""

    def __init__(self, hold: int, min_probability: float, gap: int):
        self.hold, self.min_probability, self.gap = hold, min_probability, gap
        self.candidate, self.run, self.committed, self.since = None, 0, None, 0

    def update(self, label: str, probability: float) -> str | None:
        sign = label if probability >= self.min_probability else None
        self.run = self.run + 1 if sign == self.candidate else 1
        self.candidate = sign
        if self.committed is not None:
            self.since = 0 if sign == self.committed else self.since + 1
            if self.since >= self.gap:
                self.committed = None
        if sign is None or self.committed is not None or self.run < self.hold:
            return None
        self.committed, self.since = sign, 0
        return sign


def letterbox(image: np.ndarray, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """The image scaled to fit a camera frame of `size`, centred on black."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    w, h = round(image.shape[1] * scale), round(image.shape[0] * scale)
    frame = np.zeros((height, width, 3), np.uint8)
    x, y = (width - w) // 2, (height - h) // 2
    frame[y:y + h, x:x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    return frame


def build_word(word: str, pools: dict[str, list[int]], cfg: WordsConfig, rng: random.Random) -> tuple[list, list[float]]:
    """A word's frames (indices into the set's samples, None where no hand is in view) and each letter's start time."""
    per_letter, gap = round(cfg.letter_seconds * cfg.fps), round(cfg.release_seconds * cfg.fps)
    frames: list[int | None] = []
    starts: list[float] = []
    for i, letter in enumerate(word):
        if i and word[i - 1] == letter:
            frames += [None] * gap
        starts.append(len(frames) / cfg.fps)
        pool = pools[letter]
        start = rng.randrange(len(pool))
        cycle = pool + pool[-2:0:-1] if len(pool) > 2 else pool   # back and forth through the run, as a video would
        # The signer's motion runs at `image_rate` pictures a second whatever the camera's rate: a 30 frames/s
        # camera sees each picture twice, a 10 frames/s one skips some, so rates compare on the same motion.
        frames += [cycle[(start + int(k * cfg.image_rate / cfg.fps + 1e-9)) % len(cycle)] for k in range(per_letter)]
    return frames, starts


def align(word: str, typed: str) -> tuple[list[tuple[int, int]], int, int, int]:
    """Levenshtein alignment: (matched (word, typed) index pairs, dropped, inserted, substituted)."""
    n, m = len(word), len(typed)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 or j == 0:
                cost[i][j] = i + j
            else:
                cost[i][j] = min(cost[i - 1][j] + 1, cost[i][j - 1] + 1, cost[i - 1][j - 1] + (word[i - 1] != typed[j - 1]))
    pairs, dropped, inserted, substituted = [], 0, 0, 0
    i, j = n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (word[i - 1] != typed[j - 1]):
            if word[i - 1] == typed[j - 1]:
                pairs.append((i - 1, j - 1))
            else:
                substituted += 1
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            dropped, i = dropped + 1, i - 1
        else:
            inserted, j = inserted + 1, j - 1
    return pairs[::-1], dropped, inserted, substituted


def _typing(events: list[tuple[str, float]]) -> tuple[str, list[float]]:
    """Typed text and the time each of its characters was typed, from (sign, time) commits."""
    chars: list[tuple[str, float]] = []
    for sign, t in events:
        if sign == "del":
            chars = chars[:-1]
        elif sign == "space":
            chars.append((" ", t))
        elif sign != "nothing":
            chars.append((sign, t))
    return "".join(c for c, _ in chars), [t for _, t in chars]


def spell_with_speller(predictions: list, fps: float, config: SpellerConfig) -> list[tuple[str, float]]:
    speller = Speller(config)
    events = []
    for i, prediction in enumerate(predictions):
        sign = speller.update(prediction, i / fps)
        if sign:
            events.append((sign, i / fps))
    return events


def spell_with_hold_frames(predictions: list, fps: float, cfg: WordsConfig) -> list[tuple[str, float]]:
    rule = HoldFrames(cfg.baseline_hold_frames, cfg.baseline_min_probability, cfg.baseline_break_frames)
    events = []
    for i, prediction in enumerate(predictions):
        label, p = ("nothing", 1.0) if prediction is None else (prediction.label, prediction.probability)
        sign = rule.update(label, p)
        if sign:
            events.append((sign, i / fps))
    return events


def score(words: list[tuple[str, list[float], list[tuple[str, float]]]]) -> dict:
    """Exact words, dropped / inserted / substituted letters and typing delay over (word, starts, commits)."""
    exact = with_insertion = dropped = inserted = substituted = letters = 0
    delays: list[float] = []
    samples = []
    for word, starts, events in words:
        text, times = _typing(events)
        pairs, d, ins, sub = align(word, text)
        exact += text == word
        with_insertion += ins > 0
        dropped, inserted, substituted, letters = dropped + d, inserted + ins, substituted + sub, letters + len(word)
        delays += [times[j] - starts[i] for i, j in pairs]
        if text != word and len(samples) < 5:
            samples.append(f"{word}→{text or '∅'}")
    n = max(len(words), 1)
    return {"exact": exact / n, "words_with_insertion": with_insertion / n, "letters": letters,
            "dropped": dropped, "inserted": inserted, "substituted": substituted,
            "delay_median_s": median(delays) if delays else None,
            "delay_p90_s": float(np.percentile(delays, 90)) if delays else None, "errors": samples}


def _pools(image_set: ImageSet, trained_on: bool, cfg: WordsConfig, rng: random.Random) -> dict[str, list[int]]:
    """Per letter, the sample indices a word's frames are drawn from: a run of `pool_per_letter` in frame order."""
    indices = (frame_block_split(image_set.samples, cfg.val_fraction, image_set.name)[1] if trained_on or cfg.val_only
               else range(len(image_set.samples)))
    by_letter: dict[str, list[int]] = {}
    for i in indices:
        by_letter.setdefault(CLASSES[image_set.samples[i].label], []).append(i)
    pools = {}
    for letter, run in by_letter.items():
        start = rng.randrange(max(1, len(run) - cfg.pool_per_letter + 1))
        pools[letter] = run[start:start + cfg.pool_per_letter]
    return pools


def _recognizer_tag(recognizer) -> str:
    """What the predictions depend on: the model files' bytes and how the hand is found."""
    digest = hashlib.sha1(f"words-v1:{FRAME_SIZE}:{recognizer.roi}:{getattr(recognizer, 'hand_mode', 'box')}:"
                          f"hands-v{HAND_CACHE_VERSION}".encode())   # the tracker's still search changes with it
    tracker, landmarks = getattr(recognizer, "tracker", None), getattr(recognizer, "landmarks", None)
    digest.update(str(getattr(tracker, "variants", None)).encode())
    for path in (recognizer.source, getattr(landmarks, "path", None)):
        if path and Path(path).is_file():
            digest.update(Path(path).read_bytes())
    profile = getattr(landmarks, "profile", None)
    if profile is not None:   # a signer profile changes the answers too
        digest.update(profile.prototypes.tobytes() + profile.counts.tobytes())
    return digest.hexdigest()[:16]


def _predict(recognizer, image_set: ImageSet, needed: list[int], cache_dir: Path | None, batch: int = 16) -> dict[int, Prediction]:
    """The recognizer's prediction for each needed sample, letterboxed into a camera frame, each image once and
    cached on disk per set and model; unreadable images are left out."""
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    cache = cache_dir / f"{image_set.name}-words-{set_key(image_set, _recognizer_tag(recognizer))}.json"
    stored = json.loads(cache.read_text()) if cache.is_file() else {}
    missing = [i for i in needed if str(i) not in stored]
    for k in range(0, len(missing), batch):
        chunk = missing[k:k + batch]
        observed = _observe(recognizer, image_set, chunk)
        stored.update({str(i): None for i in chunk if i not in observed})
        for i, prediction in zip(observed, recognizer.answer(list(observed.values()))):
            stored[str(i)] = [[name, round(p, 5)] for name, p in prediction.top_k]
    if missing:
        check_output_dir(cache_dir)
        write_atomic(cache, json.dumps(stored))
    return {i: Prediction(stored[str(i)][0][0], stored[str(i)][0][1], [tuple(e) for e in stored[str(i)]])
            for i in needed if stored.get(str(i))}


def _observe(recognizer, image_set: ImageSet, needed: list[int]) -> dict:
    """What the recognizer reads of each needed sample, letterboxed into a camera frame (answered together, or with
    `--adapt` frame by frame in the words' order); unreadable images are left out."""
    observed = {}
    for i in needed:
        try:
            observed[i] = recognizer.observe_still(letterbox(read_image(image_set.samples[i].path)))
        except ImageError:
            pass
    return observed


def run_words(cfg: WordsConfig, recognizer, progress=None, cache_dir: Path | None = None) -> dict:
    """Every set: build its words, predict their frames once, spell them with both rules, score."""
    say = progress or (lambda line: None)
    trained = {entry.get("name") for entry in recognizer.info.train_data}
    rows = []
    for root in cfg.sets:
        image_set = find_images(root)
        trained_on = image_set.name in trained
        rng = random.Random(f"{cfg.seed}:{image_set.name}")
        pools = _pools(image_set, trained_on, cfg, rng)
        candidates = [w for w in cfg.words if all(letter in pools for letter in w)]
        words = rng.sample(candidates, min(cfg.words_per_set, len(candidates)))
        built = [(word, *build_word(word, pools, cfg, rng)) for word in words]
        needed = sorted({i for _, frames, _ in built for i in frames if i is not None})
        say(f"{image_set.name}: {len(words)} words, {len(needed)} distinct images"
            + (" (validation part; the model trained on this set)" if trained_on else " (never trained on)"))
        if cfg.adapt:
            session, observed = recognizer.stream(adapt=True).adaptive, _observe(recognizer, image_set, needed)
        else:
            predictions = _predict(recognizer, image_set, needed, cache_dir)
        correct = total = nothing = 0
        baseline = f"hold-{cfg.baseline_hold_frames}-frames"
        by_rule = {"speller": [], baseline: []}
        for word, frames, starts in built:
            if cfg.adapt:   # each frame read in turn, the session's profile growing as it goes
                kept = [i for i in frames if i is None or i in observed]
                replay = [None if i is None else recognizer.answer([observed[i]], session)[0] for i in kept]
            else:
                kept = [i for i in frames if i is None or i in predictions]   # an unreadable image is a dropped frame
                replay = [None if i is None else predictions[i] for i in kept]
            for i, p in zip(kept, replay):
                if i is not None:
                    total += 1
                    correct += p.label == CLASSES[image_set.samples[i].label]
                    nothing += p.label == "nothing"   # with the tracker: no hand found
            by_rule["speller"].append((word, starts, spell_with_speller(replay, cfg.fps, cfg.speller)))
            by_rule[baseline].append((word, starts, spell_with_hold_frames(replay, cfg.fps, cfg)))
        top1 = correct / max(total, 1)
        row = {"set": image_set.name, "trained_on": trained_on,
               "frames_from": "validation part" if trained_on or cfg.val_only else "whole set",
               "words": len(words), "distinct_images": len(needed), "frames": total, "frame_top1": top1,
               "frames_read_as_nothing": nothing / max(total, 1),
               "expected_exact": float(np.mean([top1 ** len(w) for w in words])) if words else 0.0,
               "rules": {name: score(spelled) for name, spelled in by_rule.items()}}
        s, b = row["rules"]["speller"], row["rules"][baseline]
        say(f"  frame top-1 {top1:.1%}; exact words: speller {s['exact']:.0%}, {baseline} {b['exact']:.0%}")
        rows.append(row)
    return {"config": {**asdict(cfg), "sets": [str(p) for p in cfg.sets]}, "model": recognizer.source,
            "provider": recognizer.provider, "train_data": recognizer.info.train_data, "sets": rows}


def markdown(report: dict) -> str:
    from asl.benchmarks.report import _table

    cfg, sp = report["config"], report["config"]["speller"]
    trained = ", ".join(f"`{d['name']}` ({d.get('train', '?')} train / {d.get('val', '?')} val images)" for d in report["train_data"])
    out = ["# Words benchmark: fingerspelling built from the image sets", "",
           f"Model `{Path(report['model']).name}` on {report['provider']}. Per set, {cfg['words_per_set']} words drawn from a list "
           f"of {len(cfg['words'])} common words (those whose letters the set has); each letter held {cfg['letter_seconds']:g} s "
           f"at {cfg['fps']:g} frames/s, its frames a run of one set's images of that letter in frame order, letterboxed into "
           f"a 640×480 camera frame; a doubled letter has {cfg['release_seconds']:g} s with no hand in view between. "
           "Every distinct image is predicted once (`Recognizer.predict_batch`: with the tracker, each picture is searched "
           "for a hand as a still, not followed from the frame before) and the same predictions are replayed through "
           "both rules.", "",
           f"- **speller** (`asl.runtime.spelling`): probabilities averaged over a {sp['window']:g} s window; its top class "
           f"becomes the candidate at {sp['min_probability']:g}, stays it down to {sp['keep_probability']:g}, and is typed "
           f"after {sp['hold']:g} s as the candidate; typed again only after {sp['release']:g} s as something else.",
           f"- **hold-{cfg['baseline_hold_frames']}-frames** (the rule it replaced, the baseline): {cfg['baseline_hold_frames']} "
           f"frames in a row at {cfg['baseline_min_probability']:g} or more, one frame below starts again; "
           f"{cfg['baseline_break_frames']} frames of something else before a repeat.", "",
           f"The model trained on {trained}: words from those sets use only their validation part (the last "
           f"{cfg['val_fraction']:.0%} of each class's frames), which it never trained on; the other sets are used whole.", "",
           "Expected exact = the mean over words of (frame top-1)^letters: what a rule that needs every frame right would give.",
           ""]
    rows = []
    for row in report["sets"]:
        s, b = row["rules"]["speller"], row["rules"][f"hold-{cfg['baseline_hold_frames']}-frames"]
        rows.append({"set": f"`{row['set']}`" + (" (trained on; val part)" if row["trained_on"] else ""),
                     "words": row["words"], "top1": 100 * row["frame_top1"],
                     "nothing": 100 * row["frames_read_as_nothing"], "expected": 100 * row["expected_exact"],
                     "exact": 100 * s["exact"], "exact_b": 100 * b["exact"],
                     "ins": 100 * s["words_with_insertion"], "ins_b": 100 * b["words_with_insertion"],
                     "dropped": f"{s['dropped']} / {b['dropped']}", "inserted": f"{s['inserted']} / {b['inserted']}",
                     "substituted": f"{s['substituted']} / {b['substituted']}",
                     "delay": f"{_seconds(s['delay_median_s'])} / {_seconds(b['delay_median_s'])}"})
    out += _table(rows, [("set", "set", ""), ("words", "words", "d"), ("frame top-1 %", "top1", ".1f"),
                         ("frames read as `nothing` %", "nothing", ".1f"),
                         ("expected exact %", "expected", ".0f"), ("**exact %, speller**", "exact", ".0f"),
                         ("exact %, hold-8", "exact_b", ".0f"), ("words with an insertion %, speller", "ins", ".0f"),
                         ("… hold-8", "ins_b", ".0f"), ("letters dropped (speller / hold-8)", "dropped", ""),
                         ("inserted", "inserted", ""), ("substituted", "substituted", ""),
                         ("median delay s, first frame → typed", "delay", "")])
    out += ["", "Words typed wrong (up to 5 per set, speller):", ""]
    out += [f"- `{row['set']}`: " + ", ".join(row["rules"]["speller"]["errors"]) for row in report["sets"] if row["rules"]["speller"]["errors"]]
    out += ["", "Reproduce: `asl bench-words " + " ".join(f"--data {p}" for p in cfg["sets"]) + " --out benchmarks/reports`", ""]
    return "\n".join(out)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def write_report(report: dict, out: Path, name: str = "words") -> list[Path]:
    check_output_dir(out)
    paths = [out / f"{name}.json", out / f"{name}.md"]
    write_atomic(paths[0], json.dumps(report, indent=2))
    write_atomic(paths[1], markdown(report))
    return paths
