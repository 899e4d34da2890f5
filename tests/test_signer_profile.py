"""Signer profiles (asl calibrate): a user's own signs steer the landmark classifier, and only the one that made them."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from asl.runtime.cli import main
from asl.runtime.signer_profile import AdaptiveProfile, ProfileError, SignerProfile

CLASSES = ["A", "B", "C", "D"]


def profile_of(prototypes: dict[int, np.ndarray], classifier: str = "abc") -> SignerProfile:
    hidden = np.stack(list(prototypes.values()))
    return SignerProfile.from_hidden(hidden, np.array(list(prototypes)), CLASSES, classifier)


def test_a_hand_like_the_users_own_sign_is_read_as_that_sign():
    """The classifier says B; the user showed that this hand is their C: the profile turns the answer to C."""
    rng = np.random.default_rng(0)
    shown = {c: rng.normal(size=8).astype(np.float32) for c in range(4)}
    profile = profile_of(shown)
    log_p = np.log(np.array([[0.05, 0.8, 0.1, 0.05]], np.float32))
    hand = shown[2] * 3 + rng.normal(0, 0.05, 8)     # scale does not matter: directions are compared
    assert profile.adjust(log_p, hand[None]).argmax() == 2
    assert log_p.argmax() == 1


def test_a_hand_like_none_of_the_signs_shown_keeps_the_classifiers_answer():
    """A profile of one letter: a hand like it is read as it; a hand unlike it (a letter the user did not show)
    keeps the classifier's answer, and the letters not shown keep their order."""
    a, other = np.eye(8, dtype=np.float32)[0], np.eye(8, dtype=np.float32)[1]
    log_p = np.log(np.array([[0.1, 0.15, 0.05, 0.7]], np.float32))
    profile = profile_of({0: a})
    assert profile.letters == ["A"]
    assert profile.adjust(log_p, a[None]).argmax() == 0
    kept = profile.adjust(log_p, other[None])
    assert kept.argmax() == 3 and np.allclose(np.diff(kept[0, 1:]), np.diff(log_p[0, 1:]))


def test_adapting_reads_an_unsure_hand_as_the_letter_its_signers_hands_like_it_are_read_as():
    """No labels: nine hands of one cluster are read as A, a tenth of the same cluster narrowly as B, and the hands
    of another cluster as B. Read again with the profile of those readings, the tenth is A and the others keep theirs."""
    rng = np.random.default_rng(4)
    a, b = np.eye(8, dtype=np.float32)[:2]
    hidden = np.concatenate([a + rng.normal(0, 0.1, (10, 8)), b + rng.normal(0, 0.1, (10, 8))]).astype(np.float32)
    probabilities = np.tile(np.array([0.1, 0.8, 0.05, 0.05], np.float32), (20, 1))
    probabilities[:9] = [0.8, 0.1, 0.05, 0.05]
    probabilities[9] = [0.4, 0.5, 0.05, 0.05]
    log_p = np.log(probabilities)
    own = AdaptiveProfile(CLASSES, 8, "abc").add(hidden, log_p)
    assert own.letters == ["A", "B"] and own.counts[:2].tolist() == [9, 11]
    assert own.adjust(log_p, hidden).argmax(1).tolist() == [0] * 10 + [1] * 10


def test_a_live_session_adapts_to_a_letter_only_once_enough_hands_were_read_as_it():
    """Frames added a few at a time: a letter read on fewer than `min_hands` of them (mostly a misreading, while
    the signer has shown few letters) is not adapted to; from then on it is, and the sums carry over."""
    a, b = np.eye(8, dtype=np.float32)[:2]
    session = AdaptiveProfile(CLASSES, 8, "abc", min_hands=3)

    def read_as(letter, n):
        return np.log(np.tile(np.eye(4, dtype=np.float32)[letter] * 0.9 + 0.025, (n, 1)))

    assert session.add(np.tile(a, (2, 1)), read_as(0, 2)).letters == []
    assert session.add(np.tile(b, (1, 1)), read_as(1, 1)).letters == []
    profile = session.add(np.tile(a, (1, 1)), read_as(0, 1))
    assert profile.letters == ["A"] and profile.counts.tolist() == [3, 0, 0, 0]
    assert np.allclose(profile.prototypes[0], a)
    assert session.add(np.tile(b, (2, 1)), read_as(1, 2)).letters == ["A", "B"]


def test_profiles_add_up_by_their_pictures_and_refuse_another_classifiers():
    a, b, c = np.eye(8, dtype=np.float32)[:3]
    first = SignerProfile.from_hidden(np.stack([a, a, a, b]), np.array([0, 0, 0, 1]), CLASSES, "abc")
    later = SignerProfile.from_hidden(np.stack([c, b]), np.array([0, 2]), CLASSES, "abc")
    both = first.merged(later)
    assert both.letters == ["A", "B", "C"] and both.counts.tolist() == [4, 1, 1, 0]
    assert np.allclose(both.prototypes[0], (3 * a + c) / np.linalg.norm(3 * a + c), atol=1e-6)
    assert np.allclose(both.prototypes[1], b) and np.allclose(both.prototypes[2], b) and not both.prototypes[3].any()
    with pytest.raises(ProfileError, match="different landmark classifiers"):
        first.merged(SignerProfile.from_hidden(c[None], np.array([0]), CLASSES, "xyz"))


def test_a_profile_round_trips_and_bad_files_fail_in_one_line(tmp_path):
    rng = np.random.default_rng(2)
    profile = profile_of({0: rng.normal(size=8), 2: rng.normal(size=8)})
    path = profile.save(tmp_path / "me.npz")
    again = SignerProfile.load(path)
    assert again.classes == CLASSES and again.letters == ["A", "C"] and again.classifier == "abc"
    assert np.allclose(again.prototypes, profile.prototypes)
    assert [p.name for p in tmp_path.iterdir()] == ["me.npz"]   # nothing half-written beside it

    (tmp_path / "broken.npz").write_bytes(b"not a profile")
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    for name, message in (("missing.npz", "signer profile not found"), ("broken.npz", "cannot read signer profile"),
                          ("other.npz", "cannot read signer profile")):
        with pytest.raises(ProfileError, match=message) as err:
            SignerProfile.load(tmp_path / name)
        assert "\n" not in str(err.value)


def _classifier(tmp_path: Path, seed: int = 0, name: str = "asl.landmarks.onnx"):
    import torch

    from asl.export.landmarks import export_landmarks
    from asl.runtime.landmark_classifier import LandmarkClassifier
    from asl.train.checkpoint import atomic_save
    from asl.train.landmarks import FORMAT, LandmarkNet

    torch.manual_seed(seed)
    net = LandmarkNet(hidden=32, embedding=16).eval()
    atomic_save({"format": FORMAT, "arch_config": net.config, "state_dict": net.state_dict(),
                 "info": {"classes": [f"c{i}" for i in range(29)], "tracker": "full/full"}, "config": {}},
                tmp_path / f"{seed}.pt")
    export_landmarks(tmp_path / f"{seed}.pt", tmp_path / name)
    return net, LandmarkClassifier(tmp_path / name)


def test_the_exported_hidden_layer_matches_pytorch_and_a_profile_steers_the_classifier(tmp_path):
    import torch

    from asl.runtime.hand_features import landmark_features
    from asl.runtime.signer_profile import fingerprint

    net, classifier = _classifier(tmp_path)
    rng = np.random.default_rng(3)
    n = 200
    landmarks, world = rng.uniform(100, 200, (n, 21, 3)).astype(np.float32), rng.normal(0, 0.05, (n, 21, 3)).astype(np.float32)
    left, embedding = np.zeros(n, np.float32), 3 * rng.random((n, 16), dtype=np.float32)
    hidden = classifier.hidden(landmarks, world, left, embedding)
    with torch.no_grad():
        reference = net.hidden(torch.from_numpy(landmark_features(landmarks, world, left)), torch.from_numpy(embedding)).numpy()
    assert hidden.shape == (n, 32) and np.allclose(hidden, reference, atol=1e-4)

    # Two hands the classifier reads as letters a and b; this user signs a the way it reads as b, and b as a.
    before = classifier.log_probabilities(landmarks, world, left, embedding).argmax(1)
    pair = np.array([0, int(np.flatnonzero(before != before[0])[0])])
    swapped = before[pair[::-1]]
    others = np.setdiff1d(np.arange(29), swapped)   # the user's other letters: unlike either hand
    shown = np.concatenate([hidden[pair], rng.normal(size=(len(others), 32)).astype(np.float32)])
    classifier.use_profile(SignerProfile.from_hidden(shown, np.concatenate([swapped, others]), classifier.classes,
                                                     fingerprint(classifier.path)))
    after = classifier.log_probabilities(landmarks[pair], world[pair], left[pair], embedding[pair]).argmax(1)
    assert after.tolist() == swapped.tolist()
    classifier.use_profile(None)
    assert classifier.log_probabilities(landmarks[pair], world[pair], left[pair], embedding[pair]).argmax(1).tolist() == before[pair].tolist()


def test_a_profile_of_another_classifier_or_for_an_old_file_is_refused_in_one_line(tmp_path):
    import onnx

    from asl.runtime.landmark_classifier import HIDDEN_NAME, LandmarkClassifier
    from asl.runtime.signer_profile import fingerprint

    _, first = _classifier(tmp_path, 0, "first.onnx")
    _, second = _classifier(tmp_path, 1, "second.onnx")
    profile = SignerProfile(first.classes, np.ones((29, 32), np.float32), np.ones(29, np.int64), fingerprint(first.path))
    first.use_profile(profile)
    with pytest.raises(ProfileError, match="made with another landmark classifier") as err:
        second.use_profile(profile)
    assert "\n" not in str(err.value)

    old = onnx.load(tmp_path / "first.onnx")   # a file exported before profiles: logits only
    kept = [o for o in old.graph.output if o.name != HIDDEN_NAME]
    del old.graph.output[:]
    old.graph.output.extend(kept)
    onnx.save(old, tmp_path / "old.onnx")
    with pytest.raises(ProfileError, match="exported before signer profiles"):
        LandmarkClassifier(tmp_path / "old.onnx").use_profile(profile)


def test_a_profile_with_the_fixed_box_is_refused_in_one_line(tmp_path, tiny_onnx):
    path = profile_of({0: np.ones(8), 1: -np.ones(8)}).save(tmp_path / "me.npz")
    result = CliRunner().invoke(main, ["predict", str(tmp_path), "--model", str(tiny_onnx), "--hand", "box",
                                       "--profile", str(path)])
    assert result.exit_code != 0 and "signer profile needs the tracked hand" in result.output
    assert result.output.strip().count("\n") == 0


@pytest.mark.real_data
@pytest.mark.slow
def test_calibrate_on_real_signs_writes_a_profile_that_eval_reads(asl_data, tmp_path):
    """`asl calibrate --per-letter 1` on a signer's pictures, then `asl eval --profile` on later pictures of the same
    letters: the bundled models with the profile read them at least as well as without."""
    from asl.runtime.sources import image_files

    first, later = tmp_path / "first", tmp_path / "later"
    for folder in sorted((asl_data / "classroom_person").iterdir()):
        if folder.is_dir() and folder.name in ("O", "E", "A", "S", "L"):
            pictures = image_files(folder)
            for root, chosen in ((first, pictures[:3]), (later, pictures[-8:])):
                (root / folder.name).mkdir(parents=True)
                for path in chosen:
                    (root / folder.name / path.name).symlink_to(path)
    runner = CliRunner()
    out = tmp_path / "me.npz"
    result = runner.invoke(main, ["calibrate", str(first), "--per-letter", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 signs (A 1, E 1, L 1, O 1, S 1)" in result.output
    assert SignerProfile.load(out).letters == ["A", "E", "L", "O", "S"]
    again = runner.invoke(main, ["calibrate", str(first), "--per-letter", "2", "--add", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "5 signs (A 3, E 3, L 3, O 3, S 3)" in again.output
    scores = {}
    for args in ([], ["--profile", str(out)]):
        result = runner.invoke(main, ["eval", str(later), "--json", *args])
        assert result.exit_code == 0, result.output
        scores[bool(args)] = json.loads(result.stdout.strip().splitlines()[-1])["top1"]
    assert scores[True] >= scores[False]


def test_adapting_without_the_landmark_classifier_is_refused_in_one_line(tmp_path, tiny_onnx):
    for args in (["predict", str(tmp_path), "--model", str(tiny_onnx), "--hand", "box", "--adapt"],
                 ["eval", str(tmp_path), "--model", str(tiny_onnx), "--landmarks", "none", "--adapt"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code != 0 and "--adapt needs the tracked hand" in result.output.strip().splitlines()[-1]
        assert "Traceback" not in result.output, result.output


@pytest.mark.real_data
@pytest.mark.slow
def test_predict_and_eval_adapt_to_a_signer_alike(asl_data, tmp_path):
    """`predict --adapt` on one signer's pictures answers every picture, in order, as `eval --adapt` scores them,
    and reads them at least as well as without."""
    from asl.runtime.sources import image_files

    for letter in ("O", "E", "A", "S", "L", "T"):
        (tmp_path / "me" / letter).mkdir(parents=True)
        for path in image_files(asl_data / "classroom_person" / letter)[::4]:
            (tmp_path / "me" / letter / path.name).symlink_to(path)
    runner = CliRunner()
    scores = {}
    for args in ([], ["--adapt"]):
        result = runner.invoke(main, ["eval", str(tmp_path / "me"), "--json", *args])
        assert result.exit_code == 0, result.output
        scores[bool(args)] = json.loads(result.stdout.strip().splitlines()[-1])["top1"]
    answered = {}
    for args in ([], ["--adapt"]):
        result = runner.invoke(main, ["predict", str(tmp_path / "me"), "--json", *args])
        assert result.exit_code == 0, result.output
        answered[bool(args)] = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    lines = answered[True]
    assert len(lines) == 6 * 10 and [line["source"] for line in lines] == [line["source"] for line in answered[False]]
    right = [Path(line["source"]).parent.name == line["label"] for line in lines]
    assert abs(np.mean(right) - scores[True]) < 1e-9
    assert scores[True] >= scores[False]


@pytest.mark.real_data
@pytest.mark.slow
def test_a_profile_teaches_a_signers_own_letters_that_no_training_did(asl_data, tmp_path):
    """grey_wall's signer makes D, H, I, U and X as another alphabet does (left out of training: the bundled models
    read them as other letters). `asl bench-profile` with one picture a letter: read right from then on."""
    from asl.models import INT8
    from asl.runtime.sources import image_files

    subset = tmp_path / "grey_wall"
    for letter in ("A", "B", "D", "H", "I", "U", "X"):
        (subset / letter).mkdir(parents=True)
        for path in image_files(asl_data / "grey_wall" / letter)[::3]:
            (subset / letter / path.name).symlink_to(path)
    result = CliRunner().invoke(main, ["bench-profile", "--row", str(INT8), str(subset),
                                       "--per-letter", "1", "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    row = json.loads((tmp_path / "report" / "profiles.json").read_text())["rows"][0]
    assert row["val"] == 7 * 3 and row["none"]["fused"] < 0.5
    assert row["first 1"]["fused"] >= row["none"]["fused"] + 0.3
    assert "| grey_wall | 21 |" in (tmp_path / "report" / "profiles.md").read_text()

    # Some letters only: D and H, shown beside A and B (what the models read D as), are learned too.
    result = CliRunner().invoke(main, ["bench-profile", "--row", str(INT8), str(subset), "--per-letter", "1", "--letter", "d",
                                       "--letter", "H", "--letter", "a", "--letter", "B", "--out", str(tmp_path / "some")])
    assert result.exit_code == 0, result.output
    some = json.loads((tmp_path / "some" / "profiles.json").read_text())
    assert some["letters"] == ["A", "B", "D", "H"] and "each of A, B, D, H" in (tmp_path / "some" / "profiles.md").read_text()
    assert row["none"]["fused"] < some["rows"][0]["first 1"]["fused"] < row["first 1"]["fused"]


class _Frames:
    """A video of `n` frames at 10 frames/s; a hand is seen where `seen(i)`."""

    is_stream, realtime, fps = True, False, 10.0

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        from asl.runtime.sources import Frame

        for i in range(self.n):
            yield Frame(f"frame {i}", np.full((8, 8, 3), i, np.uint8))


def test_signing_now_asks_for_each_letter_and_keeps_hands_after_the_settling_time(tmp_path):
    import cv2

    from asl.runtime.collect import CollectConfig, collect_signs

    prompts = []

    def seen(image):
        return None if int(image[0, 0, 0]) in (12, 13) else object()   # no hand in frames 12-13

    counts = collect_signs(_Frames(100), seen, CollectConfig(("A", "L"), per_letter=2, settle=1.0, gap=0.3), tmp_path,
                           on_prompt=lambda letter, i: prompts.append((letter, i)))
    assert counts == {"A": 2, "L": 2} and prompts == [("A", 0), ("L", 1)]
    kept = {p.relative_to(tmp_path).as_posix(): int(cv2.imread(str(p))[0, 0, 0]) for p in sorted(tmp_path.rglob("*.jpg"))}
    # A from 1.0 s (frame 10), then 0.3 s on or later with a hand; L asked for next, taken from 1.0 s after frame 15
    assert kept == {"A/1.jpg": 10, "A/2.jpg": 14, "L/1.jpg": 25, "L/2.jpg": 28}


def test_a_source_that_ends_before_every_letter_is_one_line(tmp_path):
    from asl.runtime.collect import CollectConfig, collect_signs
    from asl.runtime.sources import SourceError

    with pytest.raises(SourceError, match="stopped after 1 of 2 letters: no 2 pictures with a hand of L") as err:
        collect_signs(_Frames(20), lambda image: object(), CollectConfig(("A", "L"), per_letter=2, settle=1.0), tmp_path)
    assert "\n" not in str(err.value)


def test_calibrate_from_a_video_without_hands_fails_in_one_line_and_writes_no_profile(tmp_path, monkeypatch):
    import cv2

    video = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(15):
        writer.write(np.full((48, 64, 3), 40 + i, np.uint8))
    writer.release()
    out = tmp_path / "me.npz"
    result = CliRunner().invoke(main, ["calibrate", "--camera", str(video), "--headless", "--letter", "a", "--letter", "B",
                                       "--settle", "0.2", "--out", str(out)])
    assert result.exit_code != 0 and "stopped after 0 of 2 letters" in result.output
    assert not out.exists()
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    windowless = CliRunner().invoke(main, ["calibrate", "--camera", str(video), "--out", str(out)])
    assert windowless.exit_code != 0 and "no display to open a window on" in windowless.output and not out.exists()
    neither = CliRunner().invoke(main, ["calibrate", "--out", str(out)])
    assert neither.exit_code != 0 and "give a folder of your signs, or --camera SOURCE" in neither.output


@pytest.mark.real_data
@pytest.mark.slow
def test_calibrate_from_a_video_of_a_person_signing_keeps_each_letters_own_pictures(asl_data, tmp_path):
    """A video of a person at a desk: A for 1.5 s, then L. Asked for A then L, 1 s to settle each, two pictures of each
    are kept (the right letter's frames), and the profile holds both."""
    import cv2

    from asl.runtime.sources import image_files

    video = tmp_path / "signing.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    segments = {"A": 15, "L": 30}
    for letter, n in segments.items():
        pictures = image_files(asl_data / "office_person" / letter)
        for i in range(n):
            frame = cv2.imread(str(pictures[i % len(pictures)]))
            writer.write(np.full((240, 320, 3), 255, np.uint8) if frame is None else cv2.resize(frame, (320, 240)))
    writer.release()
    keep, out = tmp_path / "kept", tmp_path / "me.npz"
    result = CliRunner().invoke(main, ["calibrate", "--camera", str(video), "--headless", "--letter", "A", "--letter", "L",
                                       "--per-letter", "2", "--settle", "1", "--keep", str(keep), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "sign A (1 of 2)" in result.output and "sign L (2 of 2)" in result.output
    assert "2 signs (A 2, L 2)" in result.output
    assert sorted(p.relative_to(keep).as_posix() for p in keep.rglob("*.jpg")) == ["A/1.jpg", "A/2.jpg", "L/1.jpg", "L/2.jpg"]
    assert SignerProfile.load(out).letters == ["A", "L"]
    assert not list(Path(os.environ["ASL_CACHE"]).glob("kept-hands-*"))   # pictures just taken are not cached


@pytest.mark.real_data
@pytest.mark.slow
def test_a_video_read_adapted_answers_every_frame_and_live_types_as_without_at_first(asl_data, tmp_path):
    """A video of a person at a desk signing O, L, A and B (20 frames each): `predict --adapt` answers each frame, in
    order, once all are read; `live --adapt`, which adapts to a letter only after 10 hands read as it, types the
    same text as without in so short a session."""
    import cv2

    from asl.runtime.sources import image_files

    video = tmp_path / "signing.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for letter in ("O", "L", "A", "B"):
        for path in image_files(asl_data / "office_person" / letter)[:20]:
            writer.write(cv2.resize(cv2.imread(str(path)), (320, 240)))
    writer.release()
    runner = CliRunner()
    result = runner.invoke(main, ["predict", str(video), "--adapt", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 80 and [line["source"] for line in lines] == [f"frame {i}" for i in range(80)]
    letters = [line["label"] for line in lines]
    assert sum(got == want for got, want in zip(letters, [c for c in "OLAB" for _ in range(20)])) >= 70
    typed = {}
    for args in ([], ["--adapt"]):
        result = runner.invoke(main, ["live", str(video), "--headless", *args])
        assert result.exit_code == 0, result.output
        typed[bool(args)] = result.stdout.strip().splitlines()[-1]
    assert typed[True] == typed[False] and typed[True].startswith("OLAB")


@pytest.mark.real_data
@pytest.mark.slow
def test_the_live_window_is_taught_a_sign_with_tab_then_its_letter(asl_data, tmp_path):
    """`asl live`: Tab then h, while grey_wall's signer holds their H (which the models read as U): after 2 s to form
    it, 3 pictures are taken (nothing is typed meanwhile), and from then on H is read and typed as H."""
    import functools

    import cv2

    from asl.runtime.live import run_live
    from asl.runtime.recognizer import Recognizer
    from asl.runtime.sources import image_files, open_source
    from asl.runtime.spelling import Speller, SpellerConfig

    pictures = image_files(asl_data / "grey_wall" / "H")
    video = tmp_path / "h.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for path in [pictures[i % 3] for i in range(30)] + pictures[10:40]:
        writer.write(cv2.resize(cv2.imread(str(path)), (320, 240)))
    writer.release()
    recognizer = Recognizer(provider="cpu", threads=1)
    typed = {}
    for teach in (False, True):
        keys = iter([9, ord("h")] if teach else [])   # Tab, then h: one key a frame
        taught = []
        with open_source(str(video)) as frames:
            typed[teach] = run_live(frames, recognizer, Speller(SpellerConfig()), show=False,
                                    keys=functools.partial(next, keys, -1), on_taught=taught.append)
    assert typed[False] == "U" and typed[True] == "H"
    assert [profile.letters for profile in taught] == [["H"]]


@pytest.mark.real_data
@pytest.mark.slow
def test_predict_adapt_on_a_camera_answers_each_frame_as_it_comes(asl_data, monkeypatch):
    """A camera never ends: `predict --adapt` answers its frames as they come, adapting as `live --adapt` does,
    instead of waiting for the end that a folder or video file has."""
    import cv2

    from asl.runtime import sources

    class Camera(sources.Source):
        is_stream, realtime, fps = True, True, 10.0

        def __iter__(self):
            for i, path in enumerate(sources.image_files(asl_data / "office_person" / "A")[:12]):
                yield sources.Frame(f"frame {i}", cv2.imread(str(path)))

        def close(self):
            pass

    monkeypatch.setattr(sources, "open_source", lambda spec: Camera())
    result = CliRunner().invoke(main, ["predict", "0", "--adapt", "--json"])
    assert result.exit_code == 0, result.output
    assert "every frame is read before" not in result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["source"] for line in lines] == [f"frame {i}" for i in range(12)]
    assert {line["label"] for line in lines} == {"A"}
