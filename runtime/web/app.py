"""The demo's web server: the page, a prediction endpoint and one fingerspelling WebSocket per page.

Inference runs on one worker thread shared by every connection (ONNX Runtime already spreads one
frame over the cores), so the event loop stays free and a slow client never holds up the others.
Each WebSocket has a one-slot mailbox: a frame that arrives while the previous one is being read
replaces the one waiting, so the answers follow the camera instead of a growing backlog.

Every request's work is bounded before it reaches that thread: a body of at most `max_bytes`
that must arrive within `upload_seconds`, an image header of at most `max_pixels`, decoded on a
few threads of its own. Only the server's own names and origins are served (DNS rebinding).
"""
from __future__ import annotations

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

import anyio
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.requests import ClientDisconnect

from asl.runtime.errors import AslError
from asl.runtime.image import ImageError, ImageTooLargeError, decode_image
from asl.runtime.recognizer import Prediction, Recognizer, RecognizerStream
from asl.runtime.spelling import Speller, SpellerConfig
from asl.runtime.teaching import SignTeaching, spell_frame
from asl.runtime.tracker import HAND_CONNECTIONS

PAGE_DIR = Path(__file__).parent
PAGE_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096          # a camera frame is far smaller; decoding this much takes ~0.1 s
UPLOAD_SECONDS = 10.0             # a body that has not fully arrived by then is refused (408)
DECODERS = 4                      # images decoded at once, each at most MAX_PIXELS × 3 bytes
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
ANY_ADDRESS = ("0.0.0.0", "::", "")
clock = time.monotonic  # when a frame is taken from the mailbox: the speller's time stamp (tests step it)


def _hostname(host: str) -> str:
    """The name part of a Host header: `[::1]:8000` → `::1`, `Localhost.:80` → `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return (host.rsplit(":", 1)[0] if host.count(":") == 1 else host).rstrip(".")


def allowed_hosts(bind: str, allow_origins: Sequence[str] = ()) -> set[str]:
    """The names this server answers to: localhost's, the address it listens on, and those of `allow_origins`.

    Listening on every interface adds this machine's own host name; reaching it by another name or a
    LAN address needs that origin in `allow_origins`.
    """
    names = set(LOCAL_NAMES)
    if bind in ANY_ADDRESS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    else:
        names.add(_hostname(bind))
    names |= {(urlsplit(o).hostname or "").lower() for o in allow_origins if o != "*"}
    return names - {""}


class LocalOnly:
    """ASGI guard against DNS rebinding and foreign pages: a request must name one of the server's own hosts,
    and a request that carries an Origin (every browser page does) must come from the server's own origin
    or one allowed. A refused WebSocket is closed before it opens (HTTP 403); other requests get a 403."""

    def __init__(self, app, hosts: set[str], origins: Sequence[str] = ()):
        self.app, self.hosts = app, hosts
        self.origins = {o.lower().rstrip("/") for o in origins}

    def refusal(self, headers: dict[str, str]) -> str | None:
        if "*" in self.origins:
            return None
        host, origin = headers.get("host", ""), headers.get("origin")
        if _hostname(host) not in self.hosts:
            return f"host {host!r} is not a name of this server (asl serve --allow-origin ORIGIN adds one)"
        own = {f"http://{host}".lower(), f"https://{host}".lower()}
        if origin is not None and origin.lower().rstrip("/") not in self.origins | own:
            return f"origin {origin!r} is not this server's page (asl serve --allow-origin ORIGIN allows one)"
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            problem = self.refusal({k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]})
            if problem and scope["type"] == "websocket":
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
                return
            if problem:
                await _error(403, problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class LatestFrame:
    """A one-slot mailbox: a newer frame replaces the one still waiting (latest frame wins)."""

    def __init__(self):
        self._frame: bytes | None = None
        self._ready = asyncio.Event()

    def put(self, frame: bytes) -> None:
        self._frame = frame
        self._ready.set()

    async def take(self) -> bytes:
        await self._ready.wait()
        self._ready.clear()
        frame, self._frame = self._frame, None
        return frame


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _spelling(speller: Speller) -> dict:
    return {"text": speller.text, "progress": round(speller.progress, 3), "candidate": speller.candidate}


def _teach(teaching: SignTeaching | None, command: str) -> dict:
    """The answer to "teach LETTER", "forget" or "profile" (the page's profile file, to save)."""
    if teaching is None:
        return {"error": "this server cannot be taught signs: it needs the tracked hand and a landmark classifier "
                         "exported with signer profiles"}
    try:
        if command == "profile":
            return teaching.saved()
        return teaching.forget() if command == "forget" else teaching.start(command.removeprefix("teach ").strip())
    except AslError as err:
        return {"error": str(err)}


def create_app(recognizer: Recognizer, speller_config: SpellerConfig | None = None, max_bytes: int = MAX_BYTES,
               max_pixels: int = MAX_PIXELS, upload_seconds: float = UPLOAD_SECONDS, bind: str = "127.0.0.1",
               allow_origins: Sequence[str] = (), adapt: bool = False) -> FastAPI:
    """The demo around a loaded recognizer. Frames are whole camera pictures: the recognizer's ROI applies,
    as in `asl live`. Each WebSocket spells with its own Speller; images over `max_bytes` or `max_pixels` are
    refused. Only requests to the names in `allowed_hosts(bind, allow_origins)` are served (`"*"`: any). With
    `adapt`, each WebSocket is one signer's session, adapted to as it goes (`Recognizer.stream`)."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asl-inference")
    teachable = SignTeaching.possible(recognizer)   # a page can be taught its signer's own signs
    decoders = anyio.CapacityLimiter(DECODERS)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        worker.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="asl serve", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    async def predict(data: bytes, stream: RecognizerStream | None = None) -> Prediction:
        """Decode (size checked from the header) on a decoder thread, then predict on the worker thread.
        A page's frames go through its own stream, so the hand is tracked from frame to frame."""
        image = await anyio.to_thread.run_sync(decode_image, data, "the image", max_pixels, limiter=decoders)
        run = (lambda: stream.predict(image)) if stream is not None else (lambda: recognizer.predict_batch([image])[0])
        return await asyncio.get_running_loop().run_in_executor(worker, run)

    @app.get("/")
    async def page():
        return FileResponse(PAGE_DIR / "index.html", media_type="text/html")

    @app.get("/{name}")
    async def page_file(name: str):
        if name not in PAGE_FILES:
            return _error(404, f"no such file: {name}")
        return FileResponse(PAGE_DIR / name, media_type=PAGE_FILES[name])

    @app.get("/api/info")
    async def info():
        """What the page needs to draw the region of interest and size the frames it sends."""
        return {"classes": recognizer.classes, "input_size": recognizer.input_size,
                "roi": list(recognizer.roi) if recognizer.roi else None, "hand": recognizer.hand_mode,
                "connections": HAND_CONNECTIONS, "provider": recognizer.provider, "precision": recognizer.info.precision,
                "adapt": adapt, "teach": teachable}

    @app.post("/api/predict")
    async def predict_image(request: Request):
        """The sign in one image sent as the raw body, e.g. `curl --data-binary @a.jpg -H 'Content-Type: image/jpeg'`."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in IMAGE_TYPES:
            return _error(415, f"Content-Type must be one of {', '.join(IMAGE_TYPES)}, not {content_type or 'none'}")
        too_large = _error(413, f"image too large: at most {max_bytes} bytes")
        if int(request.headers.get("content-length") or 0) > max_bytes:
            return too_large
        body = bytearray()
        try:
            with anyio.fail_after(upload_seconds):
                async for chunk in request.stream():  # a chunked upload declares no length: count as it comes
                    body += chunk
                    if len(body) > max_bytes:
                        return too_large
        except TimeoutError:
            return _error(408, f"the image did not arrive within {upload_seconds:g} s")
        except ClientDisconnect:  # the client left mid-upload: nobody to answer
            return Response(status_code=400)
        try:
            prediction = await predict(bytes(body))
        except ImageTooLargeError as err:
            return _error(413, str(err))
        except ImageError as err:
            return _error(400, str(err))
        return prediction.to_dict()

    async def receive(ws: WebSocket, latest: LatestFrame, speller: Speller, teaching: SignTeaching | None) -> None:
        """Until the page leaves: frames into the mailbox, commands answered at once."""
        with suppress(WebSocketDisconnect):  # the page left while a command was answered
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                frame, command = message.get("bytes"), message.get("text")
                if frame is not None and len(frame) > max_bytes:
                    await ws.send_json({"error": f"frame too large: at most {max_bytes} bytes"})
                elif frame is not None:
                    latest.put(frame)
                elif command == "clear":
                    speller.reset()
                    await ws.send_json(_spelling(speller))
                elif command.startswith("teach ") or command in ("forget", "profile"):
                    await ws.send_json(_teach(teaching, command))
                else:
                    await ws.send_json({"error": f"unknown command {command!r}: send frames as binary messages, "
                                                 "or \"clear\", \"teach LETTER\", \"forget\", \"profile\""})

    async def answer(ws: WebSocket, latest: LatestFrame, speller: Speller, stream: RecognizerStream,
                     teaching: SignTeaching | None) -> None:
        """The newest frame, read one at a time: the prediction and the text typed so far."""
        with suppress(WebSocketDisconnect):  # the page left while being answered
            while True:
                try:
                    data = await latest.take()
                    arrived = clock()
                    prediction = await predict(data, stream)
                except ImageError as err:
                    await ws.send_json({"error": str(err)})
                    continue
                committed, taught = spell_frame(speller, teaching, prediction, arrived)
                adapted = {"adapted": len(stream.adaptive.letters)} if stream.adaptive is not None else {}
                await ws.send_json({**prediction.to_dict(), **_spelling(speller), "committed": committed, **adapted, **(taught or {})})

    @app.websocket("/ws")
    async def spell(ws: WebSocket):
        """Binary messages are camera frames, each answered with the prediction and the text typed so far (and, with
        `adapt`, how many signs this page's session has adapted to). Text messages: "clear" empties the text;
        "teach A" takes the next frames with a hand as this page's own A (`SignTeaching`), "forget" drops them,
        "profile" sends the page's profile file."""
        await ws.accept()
        speller, latest, stream = Speller(speller_config), LatestFrame(), recognizer.stream(adapt)
        teaching = SignTeaching(stream) if teachable else None
        async with anyio.create_task_group() as answering:
            answering.start_soon(answer, ws, latest, speller, stream, teaching)
            await receive(ws, latest, speller, teaching)
            answering.cancel_scope.cancel()

    app.add_middleware(LocalOnly, hosts=allowed_hosts(bind, allow_origins), origins=allow_origins)
    return app
