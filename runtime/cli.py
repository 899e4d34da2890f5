"""The `asl` command. Each verb lives beside the code it drives and is imported only when run,
so `asl --help` is instant and a runtime-only install never touches torch."""
from __future__ import annotations

import importlib
import logging
import sys

import click

from asl.runtime.errors import AslError

# verb → "module:attribute" of its click command, and its one-line help (shown without importing it).
COMMANDS = {
    "train": ("asl.train.cli:train", "Train the CNN from scratch on class-folder datasets."),
    "hand-crops": ("asl.train.cli:hand_crops", "Write the tracked hand crops of a labelled set as a class-folder set (for `asl train`)."),
    "train-landmarks": ("asl.train.cli:train_landmarks", "Train the landmark classifier (the hand's shape) on class-folder datasets."),
    "eval": ("asl.data.cli:evaluate", "Score a model (ONNX or checkpoint) on a labelled image folder."),
    "calibrate": ("asl.data.cli:calibrate", "A signer profile from your own signs: letters you sign your way, read your way."),
    "export": ("asl.export.cli:export", "Export a checkpoint to checked ONNX (fp32, fp16, int8)."),
    "export-landmarks": ("asl.export.cli:export_landmarks", "Export a landmark classifier checkpoint to checked ONNX."),
    "export-hands": ("asl.export.cli:export_hands", "Convert MediaPipe's hand models (palm detector, landmarks) to ONNX."),
    "predict": ("asl.runtime.commands:predict", "Name the sign in images, folders, videos or cameras."),
    "live": ("asl.runtime.commands:live", "Live recognition and fingerspelling from a camera or video."),
    "bench": ("asl.benchmarks.cli:bench", "Latency and parity report: PyTorch vs ONNX variants vs the seed CNN."),
    "bench-hands": ("asl.benchmarks.cli:bench_hands", "Hand tracker speed, frame → letter with tracking, beside MediaPipe's pipeline."),
    "bench-words": ("asl.benchmarks.cli:bench_words", "Fingerspelled words built from image sets: words typed exactly, letters dropped/inserted."),
    "bench-val": ("asl.benchmarks.cli:bench_val", "Validation report: fused and each classifier alone, per set, with confusion matrices."),
    "bench-profile": ("asl.benchmarks.cli:bench_profile", "What a profile and --adapt gain on signers never seen (leave-one-set-out rows)."),
    "serve": ("asl.runtime.web.cli:serve", "Browser demo: a local web page that reads signs from the webcam."),
}

# Extras to name when a verb's imports are missing.
NEEDS = {
    "train": "train", "train-landmarks": "train", "export-landmarks": "train", "export": "train",
    "export-hands": "hands", "bench": "train", "bench-val": "train", "serve": "serve",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        target, _ = COMMANDS[name]
        module, attribute = target.split(":")
        try:
            return getattr(importlib.import_module(module), attribute)
        except ModuleNotFoundError as err:
            extra = NEEDS.get(name, "cpu")
            raise click.ClickException(f"`asl {name}` needs {err.name}: pip install 'asl-edge[{extra}]'") from None

    def format_commands(self, ctx, formatter):
        # Help text from the table above: listing the verbs imports none of them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text) for name, (_, help_text) in COMMANDS.items()])

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AslError as err:
            raise click.ClickException(str(err)) from None


class _Formatter(logging.Formatter):
    def format(self, record):
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return click.style(f"WARNING: {message}", fg="yellow", bold=True)
        return message


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.version_option(package_name="asl-edge", prog_name="asl")
def main(quiet: bool) -> None:
    """ASL alphabet recognition on the edge: train, export, run and benchmark."""
    configure_logging(quiet)


def configure_logging(quiet: bool = False) -> None:
    """The library's `asl` logger on stderr: progress lines unless quiet, warnings always (also for `python -m asl.train`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    log = logging.getLogger("asl")
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False


class _ProgressBars:
    """The library's progress callback drawn as click progress bars on stderr, one bar per piece of work."""

    def __init__(self):
        self.what, self.bar, self.done = None, None, 0

    def __call__(self, what: str, done: int, total: int) -> None:
        if what != self.what or self.bar is None:
            self.what, self.done = what, 0
            self.bar = click.progressbar(length=total, label=what, file=sys.stderr)
        self.bar.update(done - self.done)
        self.done = done
        if done >= total:
            self.bar.render_finish()
            self.bar = None


def progress_bars():
    """A Progress callback for verbs that draw bars; None under `asl -q` (only warnings and errors)."""
    return _ProgressBars() if logging.getLogger("asl").isEnabledFor(logging.INFO) else None
