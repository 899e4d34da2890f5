"""The landmark classifier: its features, its training and export, and its fusion in the runtime."""
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from asl.runtime.cli import main
from asl.runtime.hand_features import FEATURES, bends, landmark_features
from asl.runtime.sources import image_files


def hand(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    landmarks = rng.uniform(100, 200, (21, 3)).astype(np.float32)
    world = rng.normal(0, 0.05, (21, 3)).astype(np.float32)
    return landmarks, world


def features(landmarks, world, left=0.0):
    return landmark_features(landmarks[None], world[None], np.array([left]))[0]


def test_features_ignore_where_the_hand_is_and_how_big():
    landmarks, world = hand()
    moved = landmarks * 2.5 + np.array([300, -40, 7], np.float32)
    assert features(landmarks, world).shape == (FEATURES,)
    assert np.allclose(features(landmarks, world), features(moved, world), atol=1e-5)


def test_a_left_hand_reads_as_the_mirrored_right_hand():
    landmarks, world = hand(1)
    mirrored = landmarks * np.array([-1, 1, 1], np.float32)
    mirrored_world = world * np.array([-1, 1, 1], np.float32)
    assert np.allclose(features(landmarks, world, left=0.0), features(mirrored, mirrored_world, left=1.0), atol=1e-5)


def test_features_keep_the_hands_orientation():
    """H and U differ by a quarter turn: turning the hand must change what the classifier reads."""
    landmarks, world = hand(2)
    turned = landmarks.copy()
    turned[:, 0], turned[:, 1] = landmarks[:, 1], -landmarks[:, 0]
    assert not np.allclose(features(landmarks, world), features(turned, world), atol=1e-2)


def test_finger_bends_do_not_depend_on_the_turn_or_the_hand_size():
    """Bends carry the finger shape alone: the same hand turned in 3D or larger bends alike; a bent finger does not."""
    _, world = hand(3)
    a, b = np.deg2rad(35), np.deg2rad(-20)
    turn = (np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
            @ np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])).astype(np.float32)
    turned = 1.3 * world @ turn.T
    assert np.allclose(bends(world[None]), bends(turned[None]), atol=1e-4)
    bent = world.copy()
    bent[8] = bent[7] - (bent[8] - bent[7])   # the index fingertip folded back
    assert not np.allclose(bends(world[None]), bends(bent[None]), atol=1e-2)


def test_training_reads_the_configured_share_of_hands_as_the_other_hand():
    """Mirror augmentation: a wrong handedness from the tracker, or a signer's other hand, is seen in training."""
    from asl.train.landmarks import LandmarkConfig, augment

    landmarks, world = hand(4)
    n = 4000
    batch = np.repeat(landmarks[None], n, 0), np.repeat(world[None], n, 0), np.zeros(n, np.float32)
    for share in (0.0, 0.3):
        cfg = LandmarkConfig(data=[], out="", mirror=share)
        points, world_points, left = augment(*batch, np.random.default_rng(0), cfg)
        assert points.shape == (n, 21, 3) and world_points.shape == (n, 21, 3)
        assert abs((left >= 0.5).mean() - share) < 0.03


@pytest.mark.real_data
@pytest.mark.slow
def test_train_export_and_fuse_on_real_hands(asl_data, tmp_path, monkeypatch):
    """Train on a few pictures a letter of two sets, export, and score a third: the fused answer is used."""
    def subset(name, per_class):
        root = tmp_path / name
        for folder in sorted((asl_data / name).iterdir()):
            if folder.is_dir():
                (root / folder.name).mkdir(parents=True)
                for path in image_files(folder)[::4][:per_class]:
                    (root / folder.name / path.name).symlink_to(path)
        return root

    train_sets = [subset("massey_black", 12), subset("cabinet_room", 12)]
    held_out = subset("office_person", 4)
    runner = CliRunner()
    args = ["train-landmarks", "--out", str(tmp_path / "run"), "--epochs", "15", "--holdout", str(held_out)]
    for root in train_sets:
        args += ["--data", str(root)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "landmarks-metrics.json").read_text())
    assert metrics["holdout/office_person"]["top1"] > 0.3   # chance is 1/26

    onnx_path = tmp_path / "asl.landmarks.onnx"
    result = runner.invoke(main, ["export-landmarks", str(tmp_path / "run" / "landmarks.pt"), "--out", str(onnx_path)])
    assert result.exit_code == 0, result.output
    assert "agreement 100.00%" in result.output

    from asl.runtime.landmark_classifier import FUSION_WEIGHT, LandmarkClassifier

    shape_model = LandmarkClassifier(onnx_path)   # the shipped weight travels in the file's metadata
    assert shape_model.classes[-3:] == ["del", "nothing", "space"] and shape_model.fusion_weight == FUSION_WEIGHT
    fused = runner.invoke(main, ["eval", str(held_out), "--landmarks", str(onnx_path), "--json"])
    plain = runner.invoke(main, ["eval", str(held_out), "--landmarks", "none", "--json"])
    assert fused.exit_code == 0 and plain.exit_code == 0, fused.output + plain.output
    assert "fused with asl.landmarks.onnx" in fused.output
    for result in (fused, plain):
        assert json.loads(result.stdout.strip().splitlines()[-1])["hands"]["found"] > 0


def test_a_foreign_file_is_not_taken_for_a_landmark_model(tiny_onnx):
    from asl.runtime.landmark_classifier import LandmarkClassifier, LandmarkModelError

    with pytest.raises(LandmarkModelError, match="not a landmark model"):
        LandmarkClassifier(Path(tiny_onnx))


def test_a_landmark_model_of_an_older_feature_set_is_refused_in_one_line(tmp_path):
    """A file exported before the bends were added (126 features) must not be fed today's features."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from asl.runtime.landmark_classifier import METADATA_KEY, LandmarkClassifier, LandmarkModelError

    weights = numpy_helper.from_array(np.zeros((126, 29), np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["features", "w"], ["logits"])], "old",
                              [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", 126])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 29])], [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {METADATA_KEY: json.dumps({"classes": ["A"] * 29})})
    path = tmp_path / "asl.landmarks.onnx"
    onnx.save(model, path)
    with pytest.raises(LandmarkModelError, match=f"does not take this version's {FEATURES} landmark features") as err:
        LandmarkClassifier(path)
    assert "\n" not in str(err.value)


def test_a_classifier_reading_the_embedding_exports_with_parity_and_reads_joints_alone_without_it(tmp_path, caplog):
    """Joints plus the hand landmark model's embedding: ONNX answers as PyTorch does. A tracker whose landmark
    model gives another embedding (lite) gets a loud warning and the joints alone (embedding zero)."""
    import torch

    from asl.export.landmarks import export_landmarks
    from asl.runtime.landmark_classifier import LandmarkClassifier, log_softmax
    from asl.train.checkpoint import atomic_save
    from asl.train.landmarks import FORMAT, LandmarkNet

    net = LandmarkNet(hidden=32, embedding=16).eval()
    atomic_save({"format": FORMAT, "arch_config": net.config, "state_dict": net.state_dict(),
                 "info": {"classes": ["A"] * 29, "tracker": "full/full"}, "config": {}}, tmp_path / "landmarks.pt")
    parity = export_landmarks(tmp_path / "landmarks.pt", tmp_path / "asl.landmarks.onnx")
    assert parity["agreement"] == 1.0
    classifier = LandmarkClassifier(tmp_path / "asl.landmarks.onnx")
    assert classifier.embedding_size == 16

    landmarks, world = hand(5)
    embedding = np.random.default_rng(5).random((1, 16), dtype=np.float32)
    joints = torch.from_numpy(features(landmarks, world, 1.0)[None])
    with torch.no_grad():
        reference = net(joints, torch.from_numpy(embedding)).numpy()
        joints_alone = net(joints, torch.zeros(1, 16)).numpy()
    answer = classifier.log_probabilities(landmarks[None], world[None], np.array([1.0]), embedding)
    assert np.allclose(answer, log_softmax(reference), atol=1e-4)
    assert np.allclose(classifier.log_probabilities(landmarks[None], world[None], np.array([1.0])),
                       log_softmax(joints_alone), atol=1e-4)

    class Tracker:
        def __init__(self, landmarks, size):
            self.variants, self.embedding_size = ("full", landmarks), size

    assert classifier.reads_embedding_of(Tracker("full", 16)) and not caplog.records
    assert not classifier.reads_embedding_of(Tracker("lite", 672))
    assert "reads the full hand landmark model's 16-d embedding" in caplog.text and "joints alone" in caplog.text


def test_a_right_hand_reads_its_embedding_as_read_and_a_left_hand_the_mirrored_one():
    from asl.runtime.hand_features import as_right_hand

    embeddings = np.stack([np.stack([np.full(4, 1.0), np.full(4, 2.0)]), np.stack([np.full(4, 3.0), np.full(4, 4.0)])])
    assert as_right_hand(embeddings, np.array([0.1, 0.9])).tolist() == [[1.0] * 4, [4.0] * 4]
