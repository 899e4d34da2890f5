"""Finding labelled images in the layouts users have, and a split that does not leak frames."""

import cv2
import numpy as np
import pytest
from conftest import draw, make_dataset

from asl.data import CLASSES, DataError, find_images, frame_block_split
from asl.data.arrays import load_set


def test_class_folders_any_nesting_and_case(tmp_path):
    make_dataset(tmp_path / "asl_alphabet_train" / "asl_alphabet_train", per_class=3, case="capitalize")
    image_set = find_images(tmp_path)
    assert image_set.class_counts() == {"A": 3, "B": 3, "C": 3, "nothing": 3}
    assert {CLASSES[s.label] for s in image_set.samples} == {"A", "B", "C", "nothing"}


def test_kaggle_test_layout_and_unknown_folders_are_counted(tmp_path):
    for label in ("A", "del", "space"):
        cv2.imwrite(str(tmp_path / f"{label}_test.jpg"), draw("A", 0))
    (tmp_path / "misc").mkdir()
    cv2.imwrite(str(tmp_path / "misc" / "holiday.jpg"), draw("B", 0))
    image_set = find_images(tmp_path)
    assert image_set.class_counts() == {"A": 1, "del": 1, "space": 1}
    assert image_set.skipped["in unknown folders"] == 1
    assert "skipped 1 in unknown folders" in image_set.summary()


def test_frames_sort_numerically_and_validation_is_the_last_block(tmp_path):
    make_dataset(tmp_path, per_class=10)
    image_set = find_images(tmp_path)
    train, val = frame_block_split(image_set.samples, 0.2)
    assert not set(train) & set(val) and len(train) + len(val) == len(image_set.samples)
    a_val = [image_set.samples[i].path.name for i in val if CLASSES[image_set.samples[i].label] == "A"]
    assert a_val == ["A9.jpg", "A10.jpg"]  # numeric order, not string order (A10 < A2)
    assert frame_block_split(image_set.samples, 0.2) == (train, val)


def test_letters_a_set_signs_as_another_alphabet_are_neither_trained_nor_validated_but_scored_when_held_out(
        tmp_path, monkeypatch):
    import asl.data.split as split

    assert all(name in CLASSES for letters in split.OTHER_ALPHABET.values() for name in letters)
    monkeypatch.setattr(split, "OTHER_ALPHABET", {"grey_wall": frozenset({"B"})})
    make_dataset(tmp_path / "grey_wall", per_class=5)
    trained = load_set(tmp_path / "grey_wall", 32, progress=False)
    used = trained.labels[np.concatenate([trained.train, trained.val])]
    assert CLASSES.index("B") not in used and len(used) == 15
    assert "skipped 5 signed as another alphabet" in trained.summary()
    held_out = load_set(tmp_path / "grey_wall", 32, progress=False, held_out=True)
    assert len(held_out.train) == 20 and not held_out.skipped
    make_dataset(tmp_path / "other_set", per_class=5)   # the list names sets, not letters everywhere
    assert len(load_set(tmp_path / "other_set", 32, progress=False).train) == 16


def test_corrupt_files_are_skipped_and_counted(tmp_path):
    make_dataset(tmp_path, per_class=4)
    (tmp_path / "A" / "A99.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    arrays = load_set(tmp_path, 32, progress=False)
    assert arrays.images.shape == (16, 32, 32, 3) and arrays.images.dtype == np.uint8
    assert arrays.skipped["unreadable"] == 1


@pytest.mark.parametrize("make", [lambda p: p / "absent", lambda p: p])
def test_missing_or_empty_folder_is_one_clear_error(tmp_path, make):
    with pytest.raises(DataError, match="not found|no labelled images"):
        find_images(make(tmp_path))
