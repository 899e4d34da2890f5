"""The speller on synthetic probability sequences (no images): what a person fingerspelling relies on."""
import dataclasses

import pytest

from asl.runtime.recognizer import Prediction
from asl.runtime.spelling import Speller, SpellerConfig


def frame(label, p=0.95, runner_up="S"):
    """A frame's prediction: `label` at `p`, the rest on a runner-up (as a confusable sign would)."""
    if label is None:
        return None  # no hand in the frame
    other = runner_up if runner_up != label else "T"
    return Prediction(label, p, [(label, p), (other, 1 - p)])


def spell(segments, fps=15.0, config=None):
    """Segments of (label, seconds[, probability]) played at `fps`; the typed text."""
    speller = Speller(config or SpellerConfig())
    i = 0
    for label, seconds, *p in segments:
        for _ in range(round(seconds * fps)):
            speller.update(frame(label, *p), i / fps)
            i += 1
    return speller.text


def play(frames, fps=15.0, config=None):
    speller = Speller(config or SpellerConfig())
    typed = [speller.update(f, i / fps) for i, f in enumerate(frames)]
    return speller.text, [sign for sign in typed if sign]


def test_a_letter_with_two_frames_below_threshold_is_typed_once():
    frames = [frame("R", 0.9)] * 15
    frames[6:8] = [frame("R", 0.45), frame("R", 0.5)]
    assert play(frames) == ("R", ["R"])


def test_the_issue_word_world_is_typed_whole():
    """R correct on every frame yet never 8 frames in a row above 0.6: the old rule typed WOLD."""
    r = [0.94, 0.91, 0.79, 0.89, 0.77, 0.80, 0.76, 0.54, 0.47, 0.76, 0.59, 0.75, 0.66, 0.78, 0.84]
    frames = [frame("W")] * 15 + [frame("O")] * 15 + [frame("R", p, runner_up="U") for p in r] \
        + [frame("L")] * 15 + [frame("D")] * 15
    assert play(frames)[0] == "WORLD"


def test_two_different_letters_in_a_row_are_both_typed():
    assert spell([("A", 1.0), ("B", 1.0)]) == "AB"
    assert spell([("nothing", 0.5), ("C", 0.8), ("A", 0.8), ("T", 0.8), ("nothing", 0.5)]) == "CAT"


def test_a_letter_held_for_three_seconds_is_typed_once():
    text, typed = play([frame("L")] * 45)
    assert (text, typed) == ("L", ["L"])


@pytest.mark.parametrize("release", ["nothing", None, "dip"])
def test_the_same_letter_twice_needs_a_release(release):
    if release == "dip":  # the hand moves between the two: L drops to a low probability for half a second
        gap = [frame("L", 0.2, runner_up="nothing")] * 8
    else:
        gap = [frame(release)] * 8   # half a second of `nothing`, or of the hand out of view
    assert play([frame("L")] * 15 + gap + [frame("L")] * 15)[0] == "LL"
    assert play([frame("L")] * 38)[0] == "L"
    assert play([frame("L")] * 15 + gap[:3] + [frame("L")] * 15)[0] == "L"   # a 0.2 s lapse is no release


def test_a_one_frame_flicker_of_another_letter_types_nothing():
    frames = [frame("A")] * 10 + [frame("B", 0.99)] + [frame("A")] * 10
    assert play(frames) == ("A", ["A"])
    assert play([frame("nothing")] * 10 + [frame("B", 0.99)] + [frame("nothing")] * 10)[0] == ""
    # Alternating signs never become clear, and a sign below min_probability never counts.
    unsure = Prediction("C", 0.25, [("C", 0.25), ("S", 0.2), ("T", 0.15)])
    assert play([frame("AB"[i % 2], 0.99) for i in range(40)] + [unsure] * 40)[0] == ""


@pytest.mark.parametrize("fps", [10, 30, 60])
def test_the_same_sequence_at_any_frame_rate_types_the_same_text(fps):
    sequence = [("nothing", 0.5), ("H", 0.8), ("E", 0.8), ("L", 0.8), (None, 0.5), ("L", 0.8),
                ("O", 0.3, 0.9), ("O", 0.1, 0.4), ("O", 0.5, 0.9), ("nothing", 1.0)]
    assert spell(sequence, fps=fps) == spell(sequence, fps=15) == "HELLO"


def test_space_del_and_nothing():
    assert spell([("A", 0.8), ("B", 0.8), ("del", 0.8), ("space", 0.8), ("C", 0.8), ("nothing", 2.0)]) == "A C"


def test_candidate_and_progress_follow_the_window():
    speller = Speller(SpellerConfig(window=0.2, hold=0.4))
    assert (speller.candidate, speller.progress) == (None, 0.0)
    seen = []
    for i in range(12):
        typed = speller.update(frame("K"), i / 10)
        seen.append((speller.candidate, round(speller.progress, 2), typed))
    assert seen[0] == ("K", 0.0, None)                       # K is clear on its first frame
    assert [p for _, p, _ in seen[:4]] == [0.0, 0.25, 0.5, 0.75]
    assert seen[4] == ("K", 0.0, "K")                        # typed: the bar empties, K stays the candidate
    speller.reset()
    assert (speller.text, speller.candidate, speller.progress) == ("", None, 0.0)


def test_hold_and_window_are_settings():
    quick = SpellerConfig(window=0.1, hold=0.1)
    assert spell([("A", 0.3), ("B", 0.3)], config=quick) == "AB"
    assert spell([("A", 0.3), ("B", 0.3)], config=SpellerConfig(hold=1.0)) == ""


@pytest.mark.real_data
def test_words_from_a_real_set_are_typed_at_least_as_often_as_frame_accuracy_predicts(asl_data):
    """Words spelled with one signer's validation frames (letterboxed into a camera frame) through the default model:
    the speller must not lose what the classifier gets right (exact words >= mean of top-1^letters)."""
    from asl.benchmarks.words import WordsConfig, run_words
    from asl.runtime.recognizer import Recognizer

    config = WordsConfig([asl_data / "home_signer"], words_per_set=8, pool_per_letter=6)
    recognizer = Recognizer()
    row = run_words(config, recognizer)["sets"][0]
    speller = row["rules"]["speller"]
    assert speller["exact"] >= row["expected_exact"], row
    assert speller["inserted"] == 0, row

    # The same words as `live --adapt` reads them, frame by frame: every frame is read, and in so short a session
    # (fewer than 10 hands of most letters) it types as without.
    adapted = run_words(dataclasses.replace(config, adapt=True), recognizer)["sets"][0]
    assert adapted["frames"] == row["frames"]
    assert adapted["rules"]["speller"]["exact"] >= speller["exact"] - 1 / 8, adapted


def test_words_benchmark_scores_both_rules_on_a_set(tiny_onnx, synthetic_data, tmp_path):
    """`asl bench-words`: words strung from a set's own pictures, scored for the speller and the old rule."""
    import json

    from click.testing import CliRunner

    from asl.runtime.cli import main

    args = ["bench-words", "--data", str(synthetic_data), "--model", str(tiny_onnx), "--hand", "box",
            "--word", "cab", "--word", "abba", "--word", "bad", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "words.json").read_text())
    (row,) = report["sets"]
    assert row["words"] == 2 and row["frame_top1"] > 0.9        # BAD: the set has no D
    assert row["rules"]["speller"]["exact"] == 1.0 and row["rules"]["speller"]["inserted"] == 0
    assert set(row["rules"]) == {"speller", "hold-8-frames"}
    assert "exact %, speller" in (tmp_path / "words.md").read_text()
    assert CliRunner().invoke(main, args + ["--word", "b4d"]).exit_code == 2


def test_words_benchmark_alignment_counts_dropped_inserted_and_substituted():
    from asl.benchmarks.words import align

    assert align("WORLD", "WOLD")[1:] == (1, 0, 0)
    assert align("HELLO", "HELLLO")[1:] == (0, 1, 0)
    assert align("CAT", "CUT")[1:] == (0, 0, 1)
    assert align("CAT", "CAT")[0] == [(0, 0), (1, 1), (2, 2)]


def test_words_of_a_held_out_signer_come_from_its_validation_part_with_val_only(synthetic_data):
    """--val-only: a profile is made of a set's first frames, so its words must not reuse them."""
    import random

    from asl.benchmarks.words import WordsConfig, _pools
    from asl.data import find_images
    from asl.data.split import frame_block_split

    image_set = find_images(synthetic_data)
    val = set(frame_block_split(image_set.samples, 0.2, image_set.name)[1])
    for val_only in (False, True):
        pools = _pools(image_set, False, WordsConfig([synthetic_data], val_only=val_only, pool_per_letter=100), random.Random(0))
        drawn = {i for run in pools.values() for i in run}
        assert (drawn <= val) == val_only and len(drawn) == (len(val) if val_only else len(image_set.samples))


def test_a_pause_keeps_the_text_and_types_nothing_held_before_it():
    """While a sign is taught the speller pauses: U held before the pause is not typed after it, H held after is."""
    speller = Speller(SpellerConfig())
    for i in range(5):   # U held 1/3 s: the candidate, not typed yet
        speller.update(frame("U"), i / 15)
    speller.text = "A"
    speller.pause()
    typed = [speller.update(frame("U" if i == 0 else "H"), 3 + i / 15) for i in range(15)]
    assert speller.text == "AH" and [t for t in typed if t] == ["H"]
