"""`asl serve` at its edges: foreign hosts and origins, oversized images, clients that stall or leave mid-upload.

In-process through starlette's TestClient, and against a real uvicorn on 127.0.0.1 (loopback only, every wait bounded).
"""
import socket
import struct
import time
import zlib
from urllib.parse import urlsplit

import cv2
import pytest
from click.testing import CliRunner

pytest.importorskip("fastapi", reason="asl serve needs the serve extra: pip install 'asl-edge[serve]'")
httpx = pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")

import uvicorn  # noqa: E402
from conftest import draw  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402
from test_web import serving  # noqa: E402  (uvicorn on a free port of 127.0.0.1)

from asl.runtime.cli import main  # noqa: E402
from asl.runtime.recognizer import Recognizer  # noqa: E402
from asl.runtime.web.app import MAX_PIXELS, allowed_hosts, create_app  # noqa: E402

JPEG = {"Content-Type": "image/jpeg"}


def jpeg(label="A", index=0) -> bytes:
    return cv2.imencode(".jpg", draw(label, index))[1].tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares `width`×`height` pixels (a decompression bomb as far as its header goes)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * (3 * width + 1))) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def recognizer(tiny_onnx):
    return Recognizer(tiny_onnx, provider="cpu", threads=1, hand="box")  # synthetic signs: no hand to track


@pytest.fixture
def app(recognizer):
    return create_app(recognizer)  # the defaults `asl serve` runs with: 127.0.0.1, no extra origin


# --- hosts and origins (DNS rebinding) ------------------------------------------------------

@pytest.mark.parametrize("host, status", [
    ("localhost:8000", 200), ("127.0.0.1:8000", 200), ("[::1]:8000", 200), ("LOCALHOST", 200),
    ("evil.example:8000", 403), ("127.0.0.1.evil.example", 403), ("testserver", 403), ("", 403),
])
def test_only_the_servers_own_names_are_served(app, host, status):
    with TestClient(app, base_url="http://localhost") as client:
        answer = client.get("/api/info", headers={"host": host})
        assert answer.status_code == status
        if status == 403:
            assert "is not a name of this server" in answer.json()["error"]
        posted = client.post("/api/predict", content=jpeg(), headers={**JPEG, "host": host})
        assert posted.status_code == status


def test_websocket_only_from_the_servers_own_origin(app):
    with TestClient(app, base_url="http://localhost") as client:
        for origin in ("http://evil.example", "null", "http://localhost.evil.example:8000", "https://localhost:9999"):
            with pytest.raises(WebSocketDisconnect) as refused:
                with client.websocket_connect("ws://localhost:8000/ws", headers={"origin": origin}):
                    pass
            assert refused.value.code == 1008
        with client.websocket_connect("ws://localhost:8000/ws", headers={"origin": "http://localhost:8000"}) as ws:
            ws.send_bytes(jpeg("B", 1))
            assert ws.receive_json()["label"] == "B"
        with pytest.raises(WebSocketDisconnect):  # a rebinding page: its own origin, but a foreign Host
            with client.websocket_connect("ws://evil.example:8000/ws", headers={"origin": "http://evil.example:8000"}):
                pass


def test_a_foreign_page_cannot_post_either(app):
    with TestClient(app, base_url="http://localhost") as client:
        answer = client.post("/api/predict", content=jpeg(), headers={**JPEG, "origin": "http://evil.example"})
        assert answer.status_code == 403 and "origin 'http://evil.example'" in answer.json()["error"]
        assert client.post("/api/predict", content=jpeg(), headers={**JPEG, "origin": "http://localhost"}).status_code == 200


def test_allow_origin_adds_exactly_that_origin(recognizer):
    app = create_app(recognizer, allow_origins=("https://asl.example.org",))
    with TestClient(app, base_url="https://asl.example.org") as client:
        assert client.get("/api/info", headers={"origin": "https://asl.example.org"}).status_code == 200
        assert client.get("/api/info", headers={"origin": "https://other.example.org"}).status_code == 403
        with client.websocket_connect("wss://asl.example.org/ws", headers={"origin": "https://asl.example.org"}) as ws:
            ws.send_text("clear")
            assert ws.receive_json()["text"] == ""
    assert allowed_hosts("0.0.0.0") >= {"localhost", "127.0.0.1", "::1", socket.gethostname().lower()}
    assert "192.168.1.5" in allowed_hosts("192.168.1.5")


def test_serve_refuses_a_malformed_allow_origin_in_one_line(tiny_onnx):
    result = CliRunner().invoke(main, ["serve", "--model", str(tiny_onnx), "--allow-origin", "evil.example"])
    assert result.exit_code == 2 and "expected an origin" in result.output and "Traceback" not in result.output


def test_serve_passes_allow_origin_and_host_to_the_app(tiny_onnx, monkeypatch):
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    result = CliRunner().invoke(main, ["serve", "--model", str(tiny_onnx), "--host", "192.168.7.7",
                                       "--allow-origin", "https://asl.example.org"])
    assert result.exit_code == 0, result.output
    with TestClient(served["app"], base_url="http://192.168.7.7:8000") as client:
        assert client.get("/api/info").status_code == 200
        assert client.get("/api/info", headers={"host": "asl.example.org"}).status_code == 200
        assert client.get("/api/info", headers={"host": "evil.example"}).status_code == 403


# --- oversized images -----------------------------------------------------------------------

def test_an_image_too_large_to_decode_is_refused_from_its_header(app):
    bomb = png_header_only(32000, 32000)
    assert len(bomb) < 200_000
    with TestClient(app, base_url="http://localhost") as client:
        started = time.monotonic()
        answer = client.post("/api/predict", content=bomb, headers={"Content-Type": "image/png"})
        assert answer.status_code == 413 and "32000×32000 pixels" in answer.json()["error"]
        assert f"{MAX_PIXELS:,}" in answer.json()["error"]
        assert time.monotonic() - started < 2   # refused without decoding 3 GB of pixels
        with client.websocket_connect("ws://localhost/ws") as ws:
            ws.send_bytes(bomb)
            assert "32000×32000 pixels" in ws.receive_json()["error"]
            ws.send_bytes(jpeg("C", 2))
            assert ws.receive_json()["label"] == "C"
        assert client.post("/api/predict", content=jpeg(), headers=JPEG).json()["label"] == "A"


# --- a real server: clients that stall or leave mid-upload ----------------------------------

def _start_upload(address, declared: int, sent: bytes) -> socket.socket:
    client = socket.create_connection(address, timeout=10)
    client.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                   + f"Content-Length: {declared}\r\n\r\n".encode() + sent)
    return client


def test_stalled_and_vanishing_uploads_neither_block_others_nor_log_tracebacks(recognizer, capfd):
    app = create_app(recognizer, upload_seconds=1.0)
    with serving(app) as page:
        host, port = urlsplit(page).hostname, urlsplit(page).port
        url = f"{page}api/predict"
        stalled = _start_upload((host, port), 100_000, jpeg()[:500])
        vanished = _start_upload((host, port), 100_000, jpeg()[:500])
        vanished.close()
        started = time.monotonic()
        answer = httpx.post(url, content=jpeg("B", 4), headers=JPEG, timeout=10)
        assert answer.status_code == 200 and answer.json()["label"] == "B"
        assert time.monotonic() - started < 1.0   # served while the stalled upload still waits
        reply = b""
        while b"\r\n\r\n" not in reply:
            part = stalled.recv(4096)
            if not part:
                break
            reply += part
        stalled.close()
        assert reply.startswith(b"HTTP/1.1 408"), reply[:80]
        assert time.monotonic() - started < 5
        assert httpx.post(url, content=jpeg("C", 5), headers=JPEG, timeout=10).json()["label"] == "C"
    logged = capfd.readouterr().err
    assert "Traceback" not in logged and "Exception in ASGI application" not in logged, logged
