"""`asl bench` and `asl bench-words`: thin click layers over asl.benchmarks.suite and asl.benchmarks.words."""
from __future__ import annotations

from pathlib import Path

import click

from asl.benchmarks.words import WordsConfig
from asl.data import CLASSES
from asl.runtime.commands import live_adapt_option, load_recognizer, model_options, roi_option, speller_options
from asl.runtime.providers import MAX_THREADS

_WORDS = WordsConfig([])


@click.command()
@click.option("--model", "models", multiple=True, type=click.Path(path_type=Path),
              help="ONNX model to time (repeatable; default: the bundled fp32 and int8 models, and fp16 if present).")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="PyTorch checkpoint: the reference for parity (default: the bundled asl.pt).")
@click.option("--data", multiple=True, type=click.Path(path_type=Path),
              help="Labelled folder (repeatable): accuracy parity on its validation part (the last 20% of frames).")
@click.option("--provider", "--providers", "providers", multiple=True, type=click.Choice(("cpu", "cuda", "tensorrt"), case_sensitive=False),
              default=("cpu",), show_default=True, help="Execution provider to time (repeatable).")
@click.option("--batch", "batches", multiple=True, type=click.IntRange(1, 4096), default=(1, 8, 32), show_default=True,
              help="Batch size to time (repeatable).")
@click.option("--threads", multiple=True, type=click.IntRange(1, MAX_THREADS), default=(1, 2), show_default=True,
              help=f"CPU thread count to time (repeatable, 1..{MAX_THREADS}).")
@click.option("--no-seed", is_flag=True, help="Skip the seed CNN baseline.")
@click.option("--min-seconds", type=click.FloatRange(0, 600, min_open=True), default=2.0, show_default=True,
              help="Timed seconds per measurement (at least 20 runs).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("reports"), show_default=True)
def bench(models, checkpoint, data, providers, batches, threads, no_seed, min_seconds, out):
    """Latency (p50/p90/p99, throughput, camera-frame FPS) and parity of every variant, against the seed CNN."""
    from asl import models as bundled
    from asl.benchmarks.report import write_reports
    from asl.benchmarks.suite import BenchConfig, run_bench

    if not models:
        models = [p for p in (bundled.FP32, bundled.INT8, bundled.FP32.with_name("asl.fp16.onnx")) if p.is_file()]
        if not models:
            raise click.ClickException("no bundled ONNX models found: pass --model")
    checkpoint = checkpoint or (bundled.CHECKPOINT if bundled.CHECKPOINT.is_file() else None)
    config = BenchConfig(list(models), checkpoint, list(data), list(dict.fromkeys(p.lower() for p in providers)),
                         list(dict.fromkeys(batches)), list(dict.fromkeys(threads)), not no_seed, min_seconds)
    report = run_bench(config, progress=lambda line: click.echo(line, err=True))
    for path in write_reports(report, out):
        click.echo(f"wrote {path}")


@click.command("bench-words")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Labelled folder (repeatable): its words are spelled with its own frames, one set a person.")
@model_options
@roi_option
@speller_options
@click.option("--word", "words", multiple=True, metavar="WORD",
              help="A word to spell, letters A-Z (repeatable; default: a built-in list of common words).")
@click.option("--words-per-set", type=click.IntRange(1, 1000), default=_WORDS.words_per_set, show_default=True)
@click.option("--letter-seconds", type=click.FloatRange(0.1, 10), default=_WORDS.letter_seconds, show_default=True,
              help="How long each letter is held.")
@click.option("--release-seconds", type=click.FloatRange(0, 10), default=_WORDS.release_seconds, show_default=True,
              help="No hand in view between the two letters of a doubled letter.")
@click.option("--fps", type=click.FloatRange(1, 240), default=_WORDS.fps, show_default=True, help="Frames per second of the words' videos.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which words and frames are drawn.")
@click.option("--val-only", is_flag=True,
              help="Words from every set's validation part, trained on or not (for a held-out signer whose profile is made "
                   "of the first frames: asl calibrate --per-letter).")
@live_adapt_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
def bench_words(data, model, provider, strict, threads, profile, hand, roi, hold, window, min_prob, words, words_per_set,
                letter_seconds, release_seconds, fps, seed, val_only, adapt, out):
    """Fingerspelled words built from image sets, spelled by the live path: words typed exactly, letters dropped
    and inserted, and delay, for the speller and the hold-8-frames rule it replaced, beside per-frame top-1."""
    from asl.benchmarks.words import run_words, write_report
    from asl.runtime.spelling import SpellerConfig

    bad = [w for w in words if not (w.isascii() and w.isalpha())]
    if bad:
        raise click.BadParameter(f"words are letters A-Z, not {bad[0]!r}", param_hint="--word")
    recognizer = load_recognizer(model, provider, strict, threads, roi, hand, profile)
    if adapt:
        recognizer.adaptive_profile()   # one line now when the model cannot adapt
    config = WordsConfig(list(data), words=[w.upper() for w in words] or list(_WORDS.words),
                         words_per_set=words_per_set, letter_seconds=letter_seconds,
                         release_seconds=release_seconds, fps=fps, seed=seed, val_only=val_only, adapt=adapt,
                         speller=SpellerConfig(window=window, hold=hold, min_probability=min_prob))
    report = run_words(config, recognizer, progress=lambda line: click.echo(line, err=True))
    for path in write_report(report, out):
        click.echo(f"wrote {path}")


@click.command("bench-hands")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of pictures (repeatable), strung into a 640×480 test video; full-frame webcam sets suit best.")
@click.option("--frames", type=click.IntRange(10, 5000), default=200, show_default=True, help="Frames in the test video.")
@click.option("--threads", type=click.IntRange(1, 64), default=1, show_default=True, help="ONNX Runtime CPU threads.")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The letter classifier (default: the bundled one).")
@click.option("--min-seconds", type=click.FloatRange(0.1, 600), default=2.0, show_default=True, help="Timed seconds per measurement.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
def bench_hands(data, frames, threads, model, min_seconds, out):
    """Hand tracker speed: palm detector and landmark models alone, frame → letter with tracking, and
    MediaPipe's own pipeline on the same frames when the mediapipe package is installed. Needs no torch."""
    import json

    from asl.benchmarks.tracking import HandBenchConfig, markdown, run_hand_bench
    from asl.runtime.files import check_output_dir, write_atomic

    check_output_dir(out)
    report = run_hand_bench(HandBenchConfig(list(data), frames, threads=threads, min_seconds=min_seconds, model=model),
                            progress=lambda line: click.echo(line, err=True))
    for path, text in ((out / "hands.md", markdown(report)), (out / "hands.json", json.dumps(report, indent=2))):
        write_atomic(path, text)
        click.echo(f"wrote {path}")


@click.command("bench-val")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Labelled folder (repeatable): scored on its validation part (the last 20% of each class's frames).")
@click.option("--model", "models", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Crop classifier ONNX (repeatable; default: the bundled int8 and fp32 models).")
@click.option("--landmarks", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Landmark classifier ONNX fused with each crop model (default: the bundled one).")
@click.option("--threads", type=click.IntRange(1, MAX_THREADS), default=None, help="CPU threads for ONNX Runtime.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("reports/validation"), show_default=True)
def bench_val(data, models, landmarks, threads, out):
    """The shipped models' validation report: per set, the fused answer and each classifier alone, read as the
    runtime reads it (no hand found = `nothing`), with a confusion matrix per set (as in models/report)."""
    from asl import models as bundled
    from asl.benchmarks.validation import validation_report
    from asl.runtime.cli import progress_bars
    from asl.runtime.landmark_classifier import partner_path

    models = list(models) or [p for p in (bundled.INT8, bundled.FP32) if p.is_file()]
    if not models:
        raise click.ClickException("no bundled ONNX models found: pass --model")
    landmarks = landmarks or partner_path(bundled.FP32)
    for path in validation_report(list(data), models, landmarks, out, threads, progress=progress_bars()):
        click.echo(f"wrote {path}")


@click.command("bench-profile")
@click.option("--row", "rows", multiple=True, required=True, nargs=2,
              type=(click.Path(exists=True, dir_okay=False, path_type=Path), click.Path(exists=True, file_okay=False, path_type=Path)),
              metavar="MODEL SET", help="A crop model trained without SET (its asl.landmarks.onnx beside it) and SET (repeatable).")
@click.option("--per-letter", multiple=True, type=click.IntRange(1, None), default=(1, 3, 5, 10), show_default=True,
              help="Profile sizes: the first N pictures of each letter (repeatable).")
@click.option("--letter", "letters", multiple=True, type=click.Choice(CLASSES, case_sensitive=False), metavar="LETTER",
              help="Profiles of these letters only (repeatable; default: every letter): the letters a signer sees misread.")
@click.option("--words", is_flag=True, help="Also spell words with each signer's validation frames (as bench-words --val-only).")
@click.option("--threads", type=click.IntRange(1, MAX_THREADS), default=None, help="CPU threads for ONNX Runtime.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("reports/profiles"), show_default=True)
def bench_profile(rows, per_letter, letters, words, threads, out):
    """What a signer profile (asl calibrate) gains on signers the models never saw: each held-out set's validation
    part read without and with a profile made of the first pictures of each of its letters."""
    import json

    from asl.benchmarks.profiles import markdown, profile_report
    from asl.runtime.cli import progress_bars
    from asl.runtime.files import check_output_dir, write_atomic

    check_output_dir(out)
    letters = [c for c in CLASSES if c in letters]   # click.Choice gives the class's own spelling
    report = profile_report(list(rows), sorted(set(per_letter)), threads, progress=progress_bars(), letters=letters,
                            words=WordsConfig([]) if words else None)
    for path, text in ((out / "profiles.md", markdown(report)), (out / "profiles.json", json.dumps(report, indent=2))):
        write_atomic(path, text)
        click.echo(f"wrote {path}")
