"""`asl bench-hands`: the hand tracker's speed on a camera-sized video, beside MediaPipe's own pipeline.

Times, on one thread: the palm detector and the landmark model (lite and full) alone, then the
whole frame → letter path with tracking (landmarks every frame, the palm detector only when the
hand is lost) and with detection on every frame. Where the `mediapipe` package is installed, its
Python pipeline runs on the same frames as the reference.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from asl.benchmarks.latency import summarize, time_calls
from asl.benchmarks.suite import machine_info
from asl.runtime.hand_roi import HandRoi
from asl.runtime.recognizer import Recognizer
from asl.runtime.sources import SourceError, image_files
from asl.runtime.tracker import VARIANTS, HandTracker

Progress = Callable[[str], None]


@dataclass
class HandBenchConfig:
    data: list[Path] = field(default_factory=list)   # folders of pictures strung into the test video
    frames: int = 200
    frame_size: tuple[int, int] = (640, 480)
    threads: int = 1
    min_seconds: float = 2.0
    model: Path | None = None                        # the letter classifier (default: the bundled one)


def test_video(cfg: HandBenchConfig) -> list[np.ndarray]:
    """Consecutive pictures of the folders, each scaled and letterboxed into one camera frame."""
    width, height = cfg.frame_size
    paths = [p for folder in cfg.data for p in image_files(Path(folder))]
    if not paths:
        raise SourceError(f"no pictures in {', '.join(map(str, cfg.data)) or 'the --data folders'}")
    step = max(1, len(paths) // cfg.frames) if len(paths) > cfg.frames * 4 else 1
    frames = []
    for path in paths[::step][: cfg.frames]:
        image = cv2.imread(str(path))
        if image is None:
            continue
        scale = min(width / image.shape[1], height / image.shape[0])
        resized = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)))
        frame = np.zeros((height, width, 3), np.uint8)
        y, x = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
        frame[y:y + resized.shape[0], x:x + resized.shape[1]] = resized
        frames.append(frame)
    return frames


def _per_frame(fn: Callable[[np.ndarray], object], frames: list[np.ndarray], reset: Callable[[], None] | None = None,
               min_seconds: float = 2.0) -> dict:
    """Median time a frame over passes through the whole video (state reset before each pass)."""
    import time

    times = []
    started = time.perf_counter()
    for frame in frames[:5]:
        fn(frame)
    while not times or time.perf_counter() - started < min_seconds:
        if reset:
            reset()
        for frame in frames:
            t0 = time.perf_counter()
            fn(frame)
            times.append(time.perf_counter() - t0)
    return summarize(np.array(times), 1)


def run_hand_bench(cfg: HandBenchConfig, progress: Progress = lambda line: None) -> dict:
    frames = test_video(cfg)
    report = {"machine": machine_info(), "config": {"frames": len(frames), "frame_size": list(cfg.frame_size),
                                                     "threads": cfg.threads, "data": [str(p) for p in cfg.data]},
              "models": [], "pipelines": [], "mediapipe": []}
    probe = frames[len(frames) // 2]
    for variant in VARIANTS:
        tracker = HandTracker(variant, variant, provider="cpu", threads=cfg.threads)
        roi = HandRoi(probe.shape[1] / 2, probe.shape[0] / 2, probe.shape[0] / 2)
        for name, call in ((f"palm detector ({variant})", lambda: tracker.detector.detect(probe)),
                           (f"hand landmarks ({variant})", lambda: tracker.landmark_model.run(probe, roi))):
            stats = summarize(time_calls(call, min_seconds=cfg.min_seconds), 1)
            report["models"].append({"stage": name, **stats})
            progress(f"{name}: p50 {stats['p50_ms']:.2f} ms")
    # The video mirrored: a signer's other hand, whose embedding the landmark classifier reads from its crop
    # mirrored (one more landmark-model run a frame).
    mirrored = [cv2.flip(frame, 1) for frame in frames]
    # And once adapting to the signer as `live --adapt` does (the classifier's hidden layer read and compared too).
    for detector, landmarks, video, adapt in (("full", "full", "as filmed", False), ("full", "full", "mirrored", False),
                                              ("full", "full", "as filmed", True), ("lite", "lite", "as filmed", False),
                                              ("full", "lite", "as filmed", False)):
        frames_here = mirrored if video == "mirrored" else frames
        tracker = HandTracker(detector, landmarks, provider="cpu", threads=cfg.threads)
        recognizer = Recognizer(cfg.model, provider="cpu", threads=cfg.threads, tracker=tracker)
        holder = {}

        def reset():
            holder["stream"] = recognizer.stream(adapt)
            tracker.detections = 0

        reset()
        tracking = _per_frame(lambda f: holder["stream"].predict(f), frames_here, reset, cfg.min_seconds)
        detections = tracker.detections
        reset()
        hands = [holder["stream"].predict(f).hand for f in frames_here]
        found = [h for h in hands if h is not None]
        detect_all = _per_frame(lambda f: recognizer.predict_batch([f]), frames_here, None, cfg.min_seconds)
        row = {"models": f"{detector} detector, {landmarks} landmarks" + (", --adapt" if adapt else ""), "video": video,
               "tracking_p50_ms": tracking["p50_ms"],
               "tracking_fps": 1000 / tracking["p50_ms"], "tracking_p90_ms": tracking["p90_ms"],
               "detect_every_frame_p50_ms": detect_all["p50_ms"], "hand_found": len(found) / len(frames),
               "left_hands": sum(h.handedness == "left" for h in found) / max(len(found), 1),
               "palm_detections_per_pass": detections}
        report["pipelines"].append(row)
        progress(f"frame → letter, {row['models']}, video {video}: tracking {tracking['p50_ms']:.2f} ms "
                 f"({row['tracking_fps']:.0f} frames/s), detecting every frame {detect_all['p50_ms']:.2f} ms")
    report["mediapipe"] = _mediapipe(frames, cfg, progress)
    return report


def _mediapipe(frames: list[np.ndarray], cfg: HandBenchConfig, progress: Progress) -> list[dict]:
    """MediaPipe's own Python pipeline on the same frames (RGB in, landmarks out), if it is installed."""
    try:
        import mediapipe as mp
    except ImportError:
        progress("mediapipe is not installed: no reference pipeline (pip install 'asl-edge[hands]')")
        return []
    rows = []
    rgb = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames]
    for complexity, name in ((1, "full"), (0, "lite")):
        for static in (False, True):
            hands = mp.solutions.hands.Hands(static_image_mode=static, max_num_hands=1, model_complexity=complexity)
            stats = _per_frame(hands.process, rgb, None, cfg.min_seconds)
            found = sum(hands.process(f).multi_hand_landmarks is not None for f in rgb)
            hands.close()
            mode = "detect every frame" if static else "tracking"
            rows.append({"pipeline": f"MediaPipe {mp.__version__} ({name} models), {mode}", **stats,
                         "hand_found": found / len(rgb)})
            progress(f"{rows[-1]['pipeline']}: p50 {stats['p50_ms']:.2f} ms")
    return rows


def markdown(report: dict) -> str:
    m, c = report["machine"], report["config"]
    out = ["# Hand tracking benchmark", "",
           f"{m['cpu']}, {c['threads']} thread(s), ONNX Runtime {m['onnxruntime']}; {c['frames']} frames of "
           f"{c['frame_size'][0]}×{c['frame_size'][1]} built from {', '.join(Path(p).name for p in c['data'])}. "
           "Medians after warm-up.", "", "## Models alone", "", "| stage | p50 ms | p90 ms |", "|---|---:|---:|"]
    out += [f"| {r['stage']} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} |" for r in report["models"]]
    out += ["", "## Frame → letter (tracker + classifier)", "",
            "| models | video | left hands | tracking p50 ms | frames/s | detect every frame p50 ms | hand found "
            "| palm detections per pass |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    out += [f"| {r['models']} | {r['video']} | {r['left_hands']:.0%} | {r['tracking_p50_ms']:.2f} "
            f"| {r['tracking_fps']:.0f} | {r['detect_every_frame_p50_ms']:.2f} | {r['hand_found']:.0%} "
            f"| {r['palm_detections_per_pass']} |" for r in report["pipelines"]]
    if report["mediapipe"]:
        out += ["", "## MediaPipe's own pipeline on the same frames (landmarks only, no letter)", "",
                "| pipeline | p50 ms | p90 ms | hand found |", "|---|---:|---:|---:|"]
        out += [f"| {r['pipeline']} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['hand_found']:.0%} |" for r in report["mediapipe"]]
    return "\n".join(out) + "\n"
