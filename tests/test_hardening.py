"""A hostile but fair user: oversized images, out-of-range options, models that do not fit their metadata,
broken resumes, interrupted writes. Each is one line on stderr, a non-zero exit, and nothing left on disk."""
import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import draw

from asl.runtime.cli import main
from asl.runtime.files import OutputError, atomic_path, write_atomic, write_together
from asl.runtime.image import ImageError, ImageTooLargeError, Roi, decode_image, image_size, to_model_input
from asl.runtime.metadata import ModelInfo
from asl.runtime.providers import MAX_THREADS
from asl.runtime.recognizer import ModelError, Recognizer


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env={"DISPLAY": "", **(env or {})})


def files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def assert_one_line_error(result, message: str, exit_code: int | None = None):
    assert result.exit_code != 0 if exit_code is None else result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit), result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in errors[0], result.output


# --- images that are too big ----------------------------------------------------------------

def png_declaring(width: int, height: int) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * (3 * width + 1))) + chunk(b"IEND", b""))


def _patched(extension: str, patch, params=()) -> bytes:
    data = bytearray(cv2.imencode(extension, draw("A", 0), list(params))[1].tobytes())
    patch(data)
    return bytes(data)


def _jpeg_sof(data: bytearray):
    at = data.find(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", 30000, 30000)


def _webp_vp8(data: bytearray):
    assert data[12:16] == b"VP8 "
    data[26:30] = struct.pack("<HH", 16000, 16000)


def _bmp(data: bytearray):
    data[18:26] = struct.pack("<ii", 20000, -20000)


@pytest.mark.parametrize("data", [
    png_declaring(32000, 32000), _patched(".jpg", _jpeg_sof), _patched(".webp", _webp_vp8, (cv2.IMWRITE_WEBP_QUALITY, 50)), _patched(".bmp", _bmp),
], ids=["png", "jpeg", "webp", "bmp"])
def test_oversized_images_are_refused_from_their_header(data):
    assert image_size(data)[0] * image_size(data)[1] > 50_000_000
    with pytest.raises(ImageTooLargeError, match=r"pixels, more than the 50,000,000 allowed"):
        decode_image(data, "bomb")


def test_header_sizes_match_the_decoded_pictures():
    picture = draw("B", 1, 48)[:, :40]
    for extension in (".png", ".jpg", ".webp", ".bmp"):
        data = cv2.imencode(extension, picture)[1].tobytes()
        assert image_size(data) == (40, 48), extension
        assert decode_image(data).shape == (48, 40, 3)
    small = cv2.imencode(".png", picture[:8, :8])[1].tobytes()
    assert decode_image(small, max_pixels=64).shape[:2] == (8, 8)
    with pytest.raises(ImageTooLargeError):
        decode_image(small, max_pixels=63)


def test_a_format_without_a_header_reader_meets_opencvs_cap():
    ppm = b"P6\n10000 10000\n255\n" + b"\0" * 64   # 100 M pixels, past the cap set before OpenCV's first decode
    with pytest.raises(ImageError):
        decode_image(ppm, "big.ppm")


def test_predict_folder_keeps_every_good_result_around_an_oversized_image(tiny_onnx, tmp_path):
    for name, label in (("1_a.jpg", "A"), ("3_b.jpg", "B")):
        cv2.imwrite(str(tmp_path / name), draw(label, 7))
    (tmp_path / "2_bomb.png").write_bytes(png_declaring(32000, 32000))
    result = run("predict", tmp_path, "--model", tiny_onnx, "--json", "--batch-size", 16)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["source"]).name for r in rows] == ["1_a.jpg", "3_b.jpg"]
    assert "2_bomb.png is 32000×32000 pixels" in result.stderr and "Traceback" not in result.output
    alone = run("predict", tmp_path / "2_bomb.png", "--model", tiny_onnx)
    assert alone.exit_code == 1 and "0 predicted, 1 skipped" in alone.stderr


def test_predict_prints_what_it_read_before_a_fatal_error(tiny_onnx, tmp_path, monkeypatch):
    import asl.runtime.sources as sources
    from asl.runtime.sources import SourceError

    for i in range(1, 5):
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), draw("A", i))
    real_read = sources.read_image

    def failing_read(path):
        if Path(path).name == "3.jpg":
            raise SourceError("the disk went away")
        return real_read(path)

    monkeypatch.setattr(sources, "read_image", failing_read)
    result = run("predict", tmp_path, "--model", tiny_onnx, "--json", "--batch-size", 16)
    assert_one_line_error(result, "the disk went away")
    assert [Path(json.loads(line)["source"]).name for line in result.stdout.splitlines()] == ["1.jpg", "2.jpg"]


def test_a_region_of_interest_never_crops_to_nothing():
    for shape in ((3, 3, 3), (1, 1, 3), (2, 50, 3)):
        assert to_model_input(np.zeros(shape, np.uint8), 16, Roi(0.99, 0.99, 0.01, 0.01)).shape == (16, 16, 3)


# --- out-of-range options: one line at the edge ---------------------------------------------

BAD_OPTIONS = [
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--epochs", "0"], "--epochs"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--batch-size", "0"], "--batch-size"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--val-fraction", "1.5"], "--val-fraction"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--device", "tpu"], "expected auto, cpu, cuda"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--threads", "0"], "--threads"),
    (["train", "--data", "{data}", "--out", "{tmp}/run", "--aug", "zoom=2"], "zoom takes a [low,high] pair"),
    (["train", "--data", "{data}", "--out", "{tmp}/a-file.txt"], "is a file"),
    (["export", "{ckpt}", "--out", "{tmp}/m.onnx", "--opset", "5"], "--opset"),
    (["export", "{ckpt}", "--out", "{tmp}"], "is a directory"),
    (["predict", "{image}", "--model", "{onnx}", "--threads", "-1"], "--threads"),
    (["predict", "{image}", "--model", "{onnx}", "--threads", "100000"], f"1<=x<={MAX_THREADS}"),
    (["predict", "{image}", "--model", "{onnx}", "--batch-size", "0"], "--batch-size"),
    (["eval", "{data}", "--model", "{onnx}", "--threads", "0"], "--threads"),
    (["eval", "{data}", "--model", "{onnx}", "--report", "{tmp}"], "is a directory"),
    (["live", "{image}", "--model", "{onnx}", "--headless", "--threads", "100000"], "--threads"),
    (["live", "{image}", "--model", "{onnx}", "--headless", "--save", "{tmp}"], "is a directory"),
    (["serve", "--model", "{onnx}", "--threads", "-1"], "--threads"),
    (["bench", "--model", "{onnx}", "--provider", "cdua", "--out", "{tmp}/b"], "'cdua' is not one of"),
    (["bench", "--model", "{onnx}", "--batch", "0", "--out", "{tmp}/b"], "--batch"),
    (["bench", "--model", "{onnx}", "--threads", "100000", "--out", "{tmp}/b"], "--threads"),
]


@pytest.mark.parametrize("args, message", BAD_OPTIONS, ids=[" ".join(a[:1] + a[-2:]) for a, _ in BAD_OPTIONS])
def test_out_of_range_options_are_one_line_and_leave_nothing(args, message, tmp_path, synthetic_data, tiny_checkpoint, tiny_onnx):
    image = tmp_path / "x.jpg"
    cv2.imwrite(str(image), draw("A", 0))
    (tmp_path / "a-file.txt").write_text("not a folder")
    before = files_in(tmp_path)
    values = {"data": synthetic_data, "tmp": tmp_path, "ckpt": tiny_checkpoint, "onnx": tiny_onnx, "image": image}
    result = run(*[a.format(**values) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert files_in(tmp_path) == before


def test_a_gpu_this_machine_lacks_is_one_line(synthetic_data, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = run("train", "--data", synthetic_data, "--out", tmp_path / "run", "--device", "cuda:0")
    assert_one_line_error(result, "torch sees no CUDA device")
    assert not (tmp_path / "run").exists()


def test_recognizer_refuses_absurd_thread_counts(tiny_onnx):
    for threads in (0, -1, MAX_THREADS + 1):
        with pytest.raises(Exception, match="threads must be between 1 and"):
            Recognizer(tiny_onnx, threads=threads)


def test_an_unwritable_report_fails_before_the_work(tiny_onnx, synthetic_data, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        result = run("eval", synthetic_data, "--model", tiny_onnx, "--report", locked / "r.json")
        assert_one_line_error(result, "permission denied")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_a_report_under_a_file_fails_before_the_work(tiny_onnx, synthetic_data, tmp_path):
    (tmp_path / "a-file.txt").write_text("not a folder")
    result = run("eval", synthetic_data, "--model", tiny_onnx, "--report", tmp_path / "a-file.txt" / "r.json")
    assert_one_line_error(result, "cannot create")
    assert files_in(tmp_path) == {"a-file.txt"}


def test_eval_json_means_json_on_stdout_and_report_writes_a_file(tiny_onnx, synthetic_data, tmp_path):
    result = run("eval", synthetic_data, "--model", tiny_onnx, "--json", "--report", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["n"] == 128 and json.loads((tmp_path / "r.json").read_text()) == printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


# --- models that do not fit their own metadata ----------------------------------------------

def tiny_graph(path: Path, input_shape, input_type="uint8", outputs: int = 29, **info_changes) -> Path:
    """pixels → mean over the image → a linear layer: a model small enough to build here, with our metadata."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    elem = {"uint8": TensorProto.UINT8, "float": TensorProto.FLOAT}[input_type]
    nodes = [helper.make_node("Cast", ["pixels"], ["x"], to=TensorProto.FLOAT),
             helper.make_node("ReduceMean", ["x", "axes"], ["m"], keepdims=0),
             helper.make_node("MatMul", ["m", "w"], ["logits"])]
    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [1, 2])
    w = helper.make_tensor("w", TensorProto.FLOAT, [input_shape[-1], outputs], np.ones(input_shape[-1] * outputs))
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("pixels", elem, input_shape)],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", outputs])], [axes, w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    info = ModelInfo(classes=[chr(65 + i) for i in range(26)] + ["del", "nothing", "space"], input_size=32, **info_changes)
    helper.set_model_props(model, info.to_props())
    onnx.save(model, path)
    return path


def test_a_model_that_fits_its_metadata_loads(tmp_path):
    recognizer = Recognizer(tiny_graph(tmp_path / "ok.onnx", ["batch", 32, 32, 3]))
    assert recognizer.predict(draw("A", 0)).label in recognizer.classes


@pytest.mark.parametrize("shape, kind, outputs, changes, message", [
    (["batch", 64, 64, 3], "uint8", 29, {}, "is not the uint8 N×32×32×3"),
    (["batch", 3, 32, 32], "float", 29, {}, "is not the uint8 N×32×32×3"),
    (["batch", 32, 32, 3], "float", 29, {}, "is not the uint8 N×32×32×3"),
    (["batch", 32, 32, 3], "uint8", 10, {}, "one score for each of its 29 class names"),
    (["batch", 32, 32, 3], "uint8", 29, {"layout": "NCHW"}, "asks for layout 'NCHW'"),
    (["batch", 32, 32, 3], "uint8", 29, {"color_order": "RGB"}, "asks for color_order 'RGB'"),
    (["batch", 32, 32, 3], "uint8", 29, {"resize": "bicubic"}, "asks for resize 'bicubic'"),
], ids=["other-size", "nchw-float", "float", "10-outputs", "nchw-metadata", "rgb", "resize"])
def test_a_model_that_does_not_fit_its_metadata_fails_at_load_in_one_line(tmp_path, shape, kind, outputs, changes, message):
    model = tiny_graph(tmp_path / "bad.onnx", shape, kind, outputs, **changes)
    with pytest.raises(ModelError, match="cannot load model"):
        Recognizer(model)
    image = tmp_path / "x.jpg"
    cv2.imwrite(str(image), draw("A", 0))
    assert_one_line_error(run("predict", image, "--model", model), message)


# --- resuming: only the run that wrote last.pt, whole ----------------------------------------

RESUME_ARGS = ["--input-size", "32", "--width", "0.5", "--expand", "2", "--batch-size", "8", "--threads", "1", "--no-progress"]


@pytest.fixture
def interrupted_run(tiny_checkpoint, tmp_path) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(tiny_checkpoint.parent / "last.pt", out / "last.pt")
    return out


def _damage(state_file: Path, how: str):
    import torch

    if how == "truncated":
        state_file.write_bytes(state_file.read_bytes()[:2000])
    elif how == "foreign":
        torch.save({"weights": torch.zeros(3)}, state_file)
    elif how == "not-torch":
        state_file.write_text("hello")


@pytest.mark.parametrize("how, extra, message", [
    ("truncated", [], "truncated or foreign"),
    ("not-torch", [], "truncated or foreign"),
    ("foreign", [], "not a training state"),
    (None, ["--input-size", "48"], "with other settings (input_size)"),
    (None, ["--width", "1.0"], "with other settings (width)"),
    (None, ["--data", "{other}"], "with other settings (data)"),
])
def test_resume_refuses_what_it_cannot_continue_in_one_line(interrupted_run, synthetic_data, tmp_path, how, extra, message):
    state_file = interrupted_run / "last.pt"
    if how:
        _damage(state_file, how)
    before = state_file.read_bytes()
    other = tmp_path / "other"
    shutil.copytree(synthetic_data, other)
    args = ["train", "--data", synthetic_data, "--out", interrupted_run, "--resume", *RESUME_ARGS, *extra]
    args = [str(a).format(other=other) for a in args]
    if "--data" in extra:
        args.remove(str(synthetic_data)), args.remove("--data")
    assert_one_line_error(run(*args), message)
    assert state_file.read_bytes() == before and files_in(interrupted_run) == {"last.pt"}


def test_resume_with_weights_of_another_shape_is_one_line(interrupted_run, synthetic_data):
    import torch

    state = torch.load(interrupted_run / "last.pt", weights_only=True)
    state["model"] = {k: v[..., :1] if v.ndim else v for k, v in state["model"].items()}
    torch.save(state, interrupted_run / "last.pt")
    result = run("train", "--data", synthetic_data, "--out", interrupted_run, "--resume", *RESUME_ARGS)
    assert_one_line_error(result, "the saved model does not fit this run")
    assert files_in(interrupted_run) == {"last.pt"}


# --- claims that must be true ----------------------------------------------------------------

def test_live_save_does_not_claim_a_video_it_never_wrote(tmp_path):
    from asl.runtime.live import run_live
    from asl.runtime.sources import Frame, Source, SourceError
    from asl.runtime.spelling import Speller

    class Unreadable(Source):
        is_stream = True

        def __iter__(self):
            yield Frame("frame 0", None, "cannot decode")

    class NeverAsked:
        roi = None

        def __getattr__(self, name):
            return lambda *args, **kwargs: self

    with pytest.raises(SourceError, match="was not written"):
        run_live(Unreadable(), recognizer=NeverAsked(), speller=Speller(), show=False, save=tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


# --- writes: whole files, whole sets, nothing left behind -----------------------------------

@pytest.mark.parametrize("interruption", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, interruption):
    target = write_atomic(tmp_path / "r.json", "old")
    with pytest.raises(type(interruption) if isinstance(interruption, KeyboardInterrupt) else OutputError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise interruption
    assert target.read_text() == "old" and files_in(tmp_path) == {"r.json"}
    with pytest.raises(OutputError, match="it is a folder"):
        write_atomic(tmp_path, "x")


@pytest.mark.parametrize("interruption", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_model_pair_is_replaced_whole_or_not_at_all(tmp_path, interruption):
    fp32, int8 = tmp_path / "asl.onnx", tmp_path / "asl.int8.onnx"
    write_together({fp32: lambda p: p.write_text("old fp32"), int8: lambda p: p.write_text("old int8")})

    def fail(path):
        path.write_text("half")
        raise interruption

    with pytest.raises((OutputError, KeyboardInterrupt)):
        write_together({fp32: lambda p: p.write_text("new fp32"), int8: fail})
    assert (fp32.read_text(), int8.read_text()) == ("old fp32", "old int8") and files_in(tmp_path) == {fp32.name, int8.name}
    write_together({fp32: lambda p: p.write_text("new fp32")}, stale=[int8])
    assert files_in(tmp_path) == {fp32.name}


def test_export_without_int8_removes_the_int8_of_an_older_export(tiny_checkpoint, tiny_onnx, tmp_path):
    out = tmp_path / "tiny.onnx"
    shutil.copy(tiny_onnx, out)
    shutil.copy(tiny_onnx.with_name("tiny.int8.onnx"), tmp_path / "tiny.int8.onnx")
    result = run("export", tiny_checkpoint, "--out", out)
    assert result.exit_code == 0, result.output
    assert files_in(tmp_path) == {"tiny.onnx"}
    assert Recognizer(out).info.precision == "fp32"


def test_tests_see_only_the_asl_package():
    """The repository's folders are importable only as asl.*: one copy of every module and error class."""
    with pytest.raises(ModuleNotFoundError):
        import data  # noqa: F401
    with pytest.raises(ModuleNotFoundError):
        import runtime  # noqa: F401


# --- layers: the runtime at the bottom, only the command line talks to the user --------------

REPO = Path(__file__).resolve().parent.parent
CLI_MODULES = {"data/cli.py", "runtime/cli.py", "runtime/commands.py", "runtime/web/cli.py", "train/cli.py", "export/cli.py", "benchmarks/cli.py"}


def imported_modules(path: Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def layer_offenders(skip=()) -> dict[str, list[str]]:
    upper = ("asl.data", "asl.train", "asl.export", "asl.benchmarks")
    found = {}
    for path in sorted((REPO / "runtime").rglob("*.py")):
        name = str(path.relative_to(REPO))
        bad = sorted(m for m in imported_modules(path) if m.startswith(upper))
        if bad and name not in skip:
            found[name] = bad
    return found


def test_the_runtime_imports_no_upper_layer():
    assert layer_offenders() == {}


def test_only_command_line_modules_import_click():
    users = {str(p.relative_to(REPO)) for folder in ("data", "train", "export", "runtime", "benchmarks", "models")
             for p in (REPO / folder).rglob("*.py") if "click" in imported_modules(p)}
    assert users <= CLI_MODULES, users - CLI_MODULES


def test_quiet_training_prints_nothing_but_the_checkpoint(synthetic_data, tmp_path):
    result = run("-q", "train", "--data", synthetic_data, "--out", tmp_path / "run", "--epochs", "1", "--input-size", "32",
                 "--width", "0.5", "--batch-size", "16", "--threads", "1")
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout.strip() == f"checkpoint: {tmp_path / 'run' / 'asl.pt'}"
