"""`asl serve`: the browser demo. FastAPI and uvicorn load only when it runs, so the rest of the CLI never needs them."""
from __future__ import annotations

import click

from asl.runtime.commands import load_recognizer, model_options, roi_option, speller_options
from asl.runtime.spelling import SpellerConfig


@click.command()
@model_options
@roi_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Browsers open the camera only on localhost or over https.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@speller_options
def serve(model, provider, strict, threads, roi, host, port, hold, min_prob, break_frames):
    """Serve a web page that reads signs from the webcam and fingerspells them.

    The page sends camera frames to this server, which names the sign in the region of interest
    and types the held signs, as `asl live` does. Stop with Ctrl+C.
    """
    try:
        import uvicorn

        from asl.runtime.web.app import create_app
    except ModuleNotFoundError as err:
        raise click.ClickException(f"`asl serve` needs {err.name}: pip install 'asl-edge[serve]'") from None

    recognizer = load_recognizer(model, provider, strict, threads, roi)
    app = create_app(recognizer, SpellerConfig(hold, min_prob, break_frames))
    click.echo(f"open http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}/ (Ctrl+C to stop)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
