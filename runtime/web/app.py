"""The demo's web server: the page, a prediction endpoint and one fingerspelling WebSocket per page.

Inference runs on one worker thread shared by every connection (ONNX Runtime already spreads one
frame over the cores), so the event loop stays free and a slow client never holds up the others.
Each WebSocket has a one-slot mailbox: a frame that arrives while the previous one is being read
replaces the one waiting, so the answers follow the camera instead of a growing backlog.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import anyio
import cv2
import numpy as np
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse

from asl.runtime.image import ImageError
from asl.runtime.recognizer import Prediction, Recognizer
from asl.runtime.spelling import Speller, SpellerConfig

PAGE_DIR = Path(__file__).parent
PAGE_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_BYTES = 2 * 1024 * 1024


def decode_image(data: bytes) -> np.ndarray:
    """JPEG, PNG or WebP bytes to a BGR uint8 array, or ImageError."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise ImageError("not an image: send one JPEG, PNG or WebP picture")
    return image


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
    return {"text": speller.text, "progress": round(speller.progress, 3)}


def create_app(recognizer: Recognizer, speller_config: SpellerConfig | None = None, max_bytes: int = MAX_BYTES) -> FastAPI:
    """The demo around a loaded recognizer. Frames are whole camera pictures: the recognizer's ROI applies,
    as in `asl live`. Each WebSocket spells with its own Speller; images over `max_bytes` are refused."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asl-inference")

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        worker.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="asl serve", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    async def predict(data: bytes) -> Prediction:
        """Decode and predict on the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(
            worker, lambda: recognizer.predict_batch([decode_image(data)])[0])

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
                "roi": list(recognizer.roi) if recognizer.roi else None,
                "provider": recognizer.provider, "precision": recognizer.info.precision}

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
        async for chunk in request.stream():  # a chunked upload declares no length: count as it comes
            body += chunk
            if len(body) > max_bytes:
                return too_large
        try:
            prediction = await predict(bytes(body))
        except ImageError as err:
            return _error(400, str(err))
        return prediction.to_dict()

    async def receive(ws: WebSocket, latest: LatestFrame, speller: Speller) -> None:
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
                else:
                    await ws.send_json({"error": f"unknown command {command!r}: send frames as binary messages, or \"clear\""})

    async def answer(ws: WebSocket, latest: LatestFrame, speller: Speller) -> None:
        """The newest frame, read one at a time: the prediction and the text typed so far."""
        with suppress(WebSocketDisconnect):  # the page left while being answered
            while True:
                try:
                    prediction = await predict(await latest.take())
                except ImageError as err:
                    await ws.send_json({"error": str(err)})
                    continue
                committed = speller.update(prediction.label, prediction.probability)
                await ws.send_json({**prediction.to_dict(), **_spelling(speller), "committed": committed})

    @app.websocket("/ws")
    async def spell(ws: WebSocket):
        """Binary messages are camera frames, each answered with the prediction and the text typed so far;
        the text message "clear" empties the text."""
        await ws.accept()
        speller, latest = Speller(speller_config), LatestFrame()
        async with anyio.create_task_group() as answering:
            answering.start_soon(answer, ws, latest, speller)
            await receive(ws, latest, speller)
            answering.cancel_scope.cancel()

    return app
