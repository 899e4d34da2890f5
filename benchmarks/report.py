"""Benchmark reports: a Markdown table, the raw JSON, and two plots."""
from __future__ import annotations

import json
from pathlib import Path

from asl.runtime.files import atomic_path, check_output_dir, write_atomic


def _table(rows: list[dict], columns: list[tuple[str, str, str]]) -> list[str]:
    lines = ["| " + " | ".join(title for title, _, _ in columns) + " |",
             "|" + "|".join("---" if fmt == "" else "---:" for _, _, fmt in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(format(row.get(key, ""), fmt) if key in row else "" for _, key, fmt in columns) + " |")
    return lines


def markdown(report: dict) -> str:
    m, s = report["machine"], report["summary"]
    out = ["# Benchmark: AslNet vs the seed CNN", "",
           f"Machine: {m['cpu']}, {m['cores']} cores, {m['system']}; ONNX Runtime {m['onnxruntime']}"
           + (f", PyTorch {m['torch']}" + (f", GPU {m['cuda_device']}" if m.get("cuda_device") else "") if "torch" in m else "")
           + ". Medians of repeated runs after warm-up, all measured in this one run.", ""]
    if "speedup_int8_vs_seed" in s or "speedup_fp32_vs_seed" in s:
        out += ["## Against the seed CNN (batch 1, one CPU thread)", ""]
        for precision in ("int8", "fp32"):
            if f"speedup_{precision}_vs_seed" in s:
                out.append(f"- AslNet ONNX {precision}: **{s[f'speedup_{precision}_vs_seed']:.0f}× faster** "
                           f"({s[f'p50_ms_{precision}']:.2f} ms vs {s['p50_ms_seed']:.1f} ms) and "
                           f"**{s[f'size_ratio_{precision}_vs_seed']:.0f}× smaller** "
                           f"({s[f'size_mb_{precision}']:.2f} MB vs {s['size_mb_seed']:.0f} MB)")
        if "int8_top1_drop_points" in s:
            out.append(f"- int8 top-1 is {s['int8_top1_drop_points']:+.2f} points below fp32 on the parity images"
                       if s["int8_top1_drop_points"] >= 0 else
                       f"- int8 top-1 is {-s['int8_top1_drop_points']:.2f} points above fp32 on the parity images")
        out.append("")
    out += ["## Latency per call", ""]
    out += _table(report["latency"], [("variant", "variant", ""), ("threads", "threads", "d"), ("batch", "batch", "d"),
                                      ("p50 ms", "p50_ms", ".2f"), ("p90 ms", "p90_ms", ".2f"), ("p99 ms", "p99_ms", ".2f"),
                                      ("images/s", "throughput_ips", ".0f"), ("size MB", "size_mb", ".2f")])
    out += ["", "## Camera frame to letter (640×480 frame: crop + resize + inference + softmax/top-3)", ""]
    out += _table(report["frame_path"], [("variant", "variant", ""), ("threads", "threads", "d"), ("p50 ms", "p50_ms", ".2f"),
                                         ("p99 ms", "p99_ms", ".2f"), ("frames/s", "fps", ".0f")])
    if report["parity"]:
        out += ["", f"## Accuracy parity on the validation parts of {', '.join(report['config']['data'])}", ""]
        out += _table(report["parity"], [("variant", "variant", ""), ("images", "n", "d"), ("top-1", "top1", ".2%"),
                                         ("agreement with PyTorch fp32", "agreement", ".2%"),
                                         ("max abs logit diff", "max_abs_logit_diff", ".2e")])
    if report["unavailable"]:
        out += ["", "## Not measured", ""] + [f"- {note}" for note in report["unavailable"]]
    out += ["", "The seed CNN runs with random weights: its speed and size do not depend on them."
            " `fp16` models are timed only on GPU providers.", ""]
    return "\n".join(out)


def write_reports(report: dict, out: Path, name: str = "bench") -> list[Path]:
    check_output_dir(out)
    paths = [out / f"{name}.md", out / f"{name}.json", out / f"{name}-latency.png", out / f"{name}-accuracy.png"]
    write_atomic(paths[0], markdown(report))
    write_atomic(paths[1], json.dumps(report, indent=2))
    _plot_latency(report, paths[2])
    if report["parity"]:
        _plot_accuracy(report, paths[3])
    return [p for p in paths if p.exists()]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_latency(report: dict, path: Path) -> None:
    """p50 latency at batch 1 per variant, one bar group per thread count (log scale: the seed CNN is far off)."""
    plt = _pyplot()
    rows = [r for r in report["latency"] if r["batch"] == 1]
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    threads = sorted({r["threads"] for r in rows})
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(variants) + 1.5))
    height = 0.8 / len(threads)
    for k, t in enumerate(threads):
        values = [next((r["p50_ms"] for r in rows if r["variant"] == v and r["threads"] == t), 0) for v in variants]
        bars = ax.barh([i + k * height for i in range(len(variants))], values, height, label=f"{t} thread{'s' * (t > 1)}")
        ax.bar_label(bars, fmt="%.2f ms", fontsize=7, padding=2)
    ax.set_yticks([i + height * (len(threads) - 1) / 2 for i in range(len(variants))], variants)
    ax.set_xscale("log")
    ax.set_xlabel("p50 latency per image at batch 1 (ms, log scale)")
    ax.invert_yaxis()
    ax.legend()
    _save(fig, path)


def _plot_accuracy(report: dict, path: Path) -> None:
    plt = _pyplot()
    threads = max(r["threads"] for r in report["latency"])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in report["parity"]:
        latency = next(r["p50_ms"] for r in report["latency"]
                       if r["variant"] == row["variant"] and r["batch"] == 1 and r["threads"] == threads)
        ax.scatter(latency, 100 * row["top1"], s=60)
        ax.annotate(row["variant"], (latency, 100 * row["top1"]), fontsize=8, xytext=(5, 5), textcoords="offset points")
    ax.set(xlabel=f"p50 latency at batch 1, {threads} threads (ms)", ylabel="top-1 %",
           title="accuracy vs latency (validation images)")
    ax.grid(alpha=0.3)
    _save(fig, path)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
