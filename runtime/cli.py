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
    "eval": ("asl.runtime.commands:evaluate", "Score a model (ONNX or checkpoint) on a labelled image folder."),
    "export": ("asl.export.cli:export", "Export a checkpoint to checked ONNX (fp32, fp16, int8)."),
    "predict": ("asl.runtime.commands:predict", "Name the sign in images, folders, videos or cameras."),
    "live": ("asl.runtime.commands:live", "Live recognition and fingerspelling from a camera or video."),
    "bench": ("asl.benchmarks.cli:bench", "Latency and parity report: PyTorch vs ONNX variants vs the seed CNN."),
    "serve": ("asl.runtime.web.cli:serve", "Browser demo: a local web page that reads signs from the webcam."),
}

# Extras to name when a verb's imports are missing.
NEEDS = {"train": "train", "export": "train", "bench": "train", "serve": "serve"}


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
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    log = logging.getLogger("asl")
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False
