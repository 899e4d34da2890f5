"""`asl serve`: the HTTP and WebSocket API in-process, then the page itself in headless Chromium with a fake camera."""
import asyncio
import base64
import itertools
import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("fastapi", reason="asl serve needs the serve extra: pip install 'asl-edge[serve]'")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")

import uvicorn  # noqa: E402
from conftest import draw  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from asl.runtime.cli import main  # noqa: E402
from asl.runtime.image import Roi  # noqa: E402
from asl.runtime.recognizer import Recognizer, RecognizerStream  # noqa: E402
from asl.runtime.spelling import SpellerConfig  # noqa: E402
from asl.runtime.web import app as web_app  # noqa: E402
from asl.runtime.web.app import MAX_BYTES, LatestFrame, create_app  # noqa: E402

TESTSERVER = ("http://testserver",)  # the name starlette's TestClient sends: allowed like a --allow-origin
SPELL = SpellerConfig(window=0.1, hold=0.2, min_probability=0.5)


@pytest.fixture(autouse=True)
def frame_clock(monkeypatch):
    """Each frame the server reads is 0.1 s after the one before (a 10 frames/s camera): spelling by the clock,
    deterministic however fast the test sends."""
    ticks = itertools.count()
    monkeypatch.setattr(web_app, "clock", lambda: next(ticks) / 10)


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()


@pytest.fixture(scope="module")
def recognizer(tiny_onnx):
    """The fixed box: the synthetic signs hold no real hand for the tracker to find."""
    return Recognizer(tiny_onnx, provider="cpu", threads=1, hand="box")


@pytest.fixture(scope="module")
def client(recognizer):
    with TestClient(create_app(recognizer, SPELL, allow_origins=TESTSERVER)) as client:
        yield client


# --- HTTP -----------------------------------------------------------------------------------

def test_page_and_model_info(client, recognizer, monkeypatch):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="app.js"' in page.text and 'id="letter"' in page.text
    assert client.get("/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/style.css").headers["content-type"].startswith("text/css")
    assert client.get("/app.py").status_code == 404
    info = client.get("/api/info").json()
    assert info["classes"] == recognizer.classes and info["input_size"] == 32 and info["roi"] is None and info["hand"] == "box"
    monkeypatch.setattr(recognizer, "roi", Roi(0.5, 0.1, 0.45, 0.6))
    assert client.get("/api/info").json()["roi"] == [0.5, 0.1, 0.45, 0.6]


@pytest.mark.parametrize("label, encoding, content_type", [("A", ".jpg", "image/jpeg"), ("B", ".png", "image/png"),
                                                         ("C", ".png", "image/png; charset=binary")])
def test_predict_names_the_sign_in_a_posted_image(client, label, encoding, content_type):
    body = cv2.imencode(encoding, draw(label, 3))[1].tobytes()
    answer = client.post("/api/predict", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 200
    assert answer.json()["label"] == label and 0 < answer.json()["probability"] <= 1 and len(answer.json()["top_k"]) == 3


def _chunks(total: int, size: int = 256 * 1024):
    for start in range(0, total, size):
        yield b"\0" * min(size, total - start)


@pytest.mark.parametrize("content_type, body, status, message", [
    ("text/plain", b"hello", 415, "Content-Type must be one of image/jpeg"),
    (None, b"\xff\xd8 no type", 415, "not none"),
    ("image/jpeg", b"this is not a picture", 400, "not an image"),
    ("image/png", b"", 400, "not an image"),
    ("image/jpeg", b"\0" * (MAX_BYTES + 1), 413, f"at most {MAX_BYTES} bytes"),
    ("image/jpeg", _chunks(MAX_BYTES + 1), 413, "image too large"),  # chunked: no Content-Length to check first
], ids=["text", "no-type", "garbage", "empty", "too-large", "too-large-chunked"])
def test_bad_requests_get_a_clear_4xx_and_the_server_keeps_serving(client, content_type, body, status, message):
    answer = client.post("/api/predict", content=body, headers={"Content-Type": content_type} if content_type else {})
    assert answer.status_code == status
    assert message in answer.json()["error"]
    good = client.post("/api/predict", content=jpeg(draw("A", 0)), headers={"Content-Type": "image/jpeg"})
    assert good.status_code == 200 and good.json()["label"] == "A"


# --- WebSocket ------------------------------------------------------------------------------

def test_each_page_spells_with_its_own_speller_and_can_clear(client):
    with client.websocket_connect("/ws") as first, client.websocket_connect("/ws") as second:
        answers = []
        for i, label in enumerate(["nothing"] * 2 + ["A"] * 4 + ["nothing"] * 3 + ["B"] * 4):
            first.send_bytes(jpeg(draw(label, i)))
            answers.append(first.receive_json())
        assert [a["label"] for a in answers[2:6]] == ["A"] * 4
        assert [a["committed"] for a in answers].count("A") == 1
        assert answers[-1]["text"] == "AB"
        second.send_bytes(jpeg(draw("C", 0)))
        assert second.receive_json()["text"] == ""
        first.send_text("clear")
        assert first.receive_json() == {"text": "", "progress": 0.0, "candidate": None}


def test_websocket_reports_bad_frames_and_keeps_going(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"not a jpeg")
        assert "not an image" in ws.receive_json()["error"]
        ws.send_bytes(b"\0" * (MAX_BYTES + 1))
        assert "frame too large" in ws.receive_json()["error"]
        ws.send_text("shout")
        assert "unknown command 'shout'" in ws.receive_json()["error"]
        ws.send_bytes(jpeg(draw("C", 1)))
        assert ws.receive_json()["label"] == "C"


def test_latest_frame_wins_while_the_model_is_busy(recognizer, monkeypatch):
    started, release = threading.Event(), threading.Event()
    predict = RecognizerStream.predict

    def slow(stream, frame):
        started.set()
        release.wait(10)
        return predict(stream, frame)

    monkeypatch.setattr(RecognizerStream, "predict", slow)  # what each page's frames go through
    with TestClient(create_app(recognizer, SPELL, allow_origins=TESTSERVER)) as client, client.websocket_connect("/ws") as ws:
        ws.send_bytes(jpeg(draw("A", 0)))
        assert started.wait(10)
        ws.send_bytes(jpeg(draw("B", 0)))
        ws.send_bytes(jpeg(draw("C", 0)))  # replaces B, which is never read
        ws.send_text("clear")
        assert ws.receive_json() == {"text": "", "progress": 0.0, "candidate": None}  # the connection answers while the model is busy
        assert client.get("/api/info").status_code == 200  # and so does the rest of the server
        release.set()
        assert [ws.receive_json()["label"] for _ in range(2)] == ["A", "C"]


def test_latest_frame_mailbox_keeps_only_the_newest():
    async def scenario():
        latest = LatestFrame()
        for frame in (b"1", b"2", b"3"):
            latest.put(frame)
        first = await latest.take()
        latest.put(b"4")
        return first, await latest.take()

    assert asyncio.run(scenario()) == (b"3", b"4")


# --- the command ----------------------------------------------------------------------------

def test_serve_listens_on_localhost_by_default_and_spells_with_the_flags_given(tiny_onnx, monkeypatch):
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    result = CliRunner().invoke(main, ["serve", "--model", str(tiny_onnx), "--provider", "cpu", "--hand", "box", "--hold", "0.4",
                                   "--min-prob", "0.3"])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8000)
    assert "open http://127.0.0.1:8000/" in result.output
    with TestClient(served["app"], base_url="http://localhost") as client, client.websocket_connect("ws://localhost/ws") as ws:
        committed = []
        for i in range(5):
            ws.send_bytes(jpeg(draw("A", i)))
            committed.append(ws.receive_json()["committed"])
        assert committed == [None] * 4 + ["A"]


# --- the page in a real browser -------------------------------------------------------------

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  "--window-size=960,780")


def write_y4m(path: Path, labels: list[str], width: int = 320, height: int = 240, fps: int = 10) -> Path:
    """A fake-camera video: each synthetic sign fills the centred square, the default region of interest."""
    side = min(width, height)
    x0, y0 = (width - side) // 2, (height - side) // 2
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for i, label in enumerate(labels):
            picture = np.full((height, width, 3), 115, np.uint8)
            picture[y0:y0 + side, x0:x0 + side] = draw(label, i, side)
            out.write(b"FRAME\n" + cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


@contextmanager
def serving(app):
    """uvicorn in a thread on a free port of 127.0.0.1; yields the page's URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


@pytest.fixture
def chromium(tmp_path):
    """Headless Chromium whose camera plays a synthetic video: nothing, A, nothing, B, looped."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (the dev extra)")
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.skip("the browser test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    video = write_y4m(tmp_path / "camera.y4m", ["nothing"] * 5 + ["A"] * 30 + ["nothing"] * 5 + ["B"] * 30)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--use-file-for-fake-video-capture={video}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=webdriver.ChromeService(driver), options=options)
    yield session
    session.quit()


@pytest.mark.browser
def test_page_reads_signs_from_the_camera_and_types_them(chromium, recognizer, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with serving(create_app(recognizer, SpellerConfig(window=0.2, hold=0.3, min_probability=0.4))) as url:
        chromium.get(url)
        wait = WebDriverWait(chromium, 25, poll_frequency=0.2)
        wait.until(lambda page: "AB" in page.find_element(By.ID, "text").text)
        letter = chromium.find_element(By.ID, "letter").text
        assert letter in ("A", "B", "C", "nothing"), letter
        assert chromium.find_element(By.ID, "probability").text.endswith("%")
        assert float(chromium.find_element(By.ID, "fps").text) > 0
        assert "error" not in chromium.find_element(By.ID, "status").get_attribute("class")
        # ASL_SCREENSHOT=runtime/web/screenshot.png refreshes the README's picture.
        screenshot = Path(os.environ.get("ASL_SCREENSHOT") or tmp_path / "page.png")
        assert chromium.save_screenshot(str(screenshot))
        chromium.find_element(By.ID, "clear").click()  # "AB" comes back only after a whole loop of the video
        wait.until(lambda page: "AB" not in page.find_element(By.ID, "text").text)


@pytest.mark.real_data
@pytest.mark.slow
def test_each_page_adapts_to_its_own_signer_and_says_how_far(asl_data):
    """`serve --adapt`: a page's session adapts to a sign once 10 of its hands were read as it; another page starts
    its own session; a sign taught starts it afresh."""
    from asl.runtime.signer_profile import MIN_LIVE_HANDS
    from asl.runtime.sources import image_files

    recognizer = Recognizer(provider="cpu", threads=1)
    pictures = [cv2.imread(str(p)) for p in image_files(asl_data / "office_person" / "A")[:MIN_LIVE_HANDS + 2]]
    with TestClient(create_app(recognizer, SPELL, allow_origins=TESTSERVER, adapt=True)) as client:
        assert client.get("/api/info").json()["adapt"] is True
        with client.websocket_connect("/ws") as first, client.websocket_connect("/ws") as second:
            answers = []
            for picture in pictures:
                first.send_bytes(jpeg(picture))
                answers.append(first.receive_json())
            assert all(a["label"] == "A" for a in answers)
            assert [a["adapted"] for a in answers] == [0] * (MIN_LIVE_HANDS - 1) + [1] * 3
            second.send_bytes(jpeg(pictures[0]))
            assert second.receive_json()["adapted"] == 0
            # Teaching a sign corrects the readings the session adapted to: it starts afresh.
            first.send_text("teach A")
            first.receive_json()
            answers = []
            for i in range(35):
                first.send_bytes(jpeg(pictures[i % len(pictures)]))
                answers.append(first.receive_json())
            done = next(i for i, a in enumerate(answers) if a.get("taught"))
            assert answers[done]["taught"] == ["A"] and answers[done + 1]["adapted"] == 0


@pytest.mark.real_data
@pytest.mark.slow
def test_a_page_taught_its_signers_own_letters_reads_them_so_and_other_pages_do_not(asl_data, tmp_path):
    """grey_wall's signer makes H and U as another alphabet does (the bundled models read them as U and B). The page
    says "teach H", the signer holds H (2 s to form it, then 3 pictures); the same for U: from then on that page
    reads them as taught, another page as before; Save gives a profile file; "forget" undoes it."""
    from asl.runtime.sources import image_files

    recognizer = Recognizer(provider="cpu", threads=1)
    pictures = {letter: [cv2.imread(str(p)) for p in image_files(asl_data / "grey_wall" / letter)] for letter in "HU"}
    later = {letter: [jpeg(im) for im in ims[10:40:6]] for letter, ims in pictures.items()}

    def read(ws, frames):
        answers = []
        for frame in frames:
            ws.send_bytes(frame)
            answers.append(ws.receive_json())
        return answers

    with TestClient(create_app(recognizer, SPELL, allow_origins=TESTSERVER)) as client:
        assert client.get("/api/info").json()["teach"] is True
        with client.websocket_connect("/ws") as page, client.websocket_connect("/ws") as other:
            assert {a["label"] for a in read(page, later["H"])} == {"U"}
            for letter in "HU":
                page.send_text(f"teach {letter}")
                assert page.receive_json()["teaching"] == {"letter": letter, "kept": 0, "of": 3, "taking": False}
                answers = read(page, [jpeg(pictures[letter][i % 3]) for i in range(40)])
                done = next(i for i, a in enumerate(answers) if a.get("teaching", 1) is None)
                assert not any(a["committed"] for a in answers[:done + 1])   # nothing typed while taught
                assert answers[done - 1]["teaching"] == {"letter": letter, "kept": 2, "of": 3, "taking": True}
                assert not any("teaching" in a for a in answers[done + 1:])
            assert answers[done]["taught"] == ["H", "U"]
            assert {a["label"] for a in read(page, later["H"])} == {"H"}
            assert {a["label"] for a in read(page, later["U"])} == {"U"}
            assert {a["label"] for a in read(other, later["H"])} == {"U"}
            page.send_text("profile")   # the page's Save: a profile file `asl live --profile` reads
            saved = page.receive_json()
            assert saved["signs"] == ["H", "U"]
            (tmp_path / "my-signs.npz").write_bytes(base64.b64decode(saved["profile"]))
            taught = Recognizer(provider="cpu", threads=1, profile=tmp_path / "my-signs.npz")
            assert {taught.predict(im).label for im in pictures["U"][10:40:6]} == {"U"}
            other.send_text("profile")
            assert "nothing to save" in other.receive_json()["error"]
            page.send_text("teach ?")
            assert "cannot teach '?'" in page.receive_json()["error"]
            page.send_text("forget")
            assert page.receive_json() == {"teaching": None, "taught": []}
            assert {a["label"] for a in read(page, later["H"])} == {"U"}


def test_a_page_of_the_fixed_box_cannot_be_taught(client):
    assert client.get("/api/info").json()["teach"] is False
    with client.websocket_connect("/ws") as ws:
        ws.send_text("teach A")
        assert "cannot be taught signs" in ws.receive_json()["error"]
