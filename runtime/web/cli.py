"""`asl serve`: the browser demo. FastAPI and uvicorn load only when it runs, so the rest of the CLI never needs them."""
from __future__ import annotations

from urllib.parse import urlsplit

import click

from asl.runtime.commands import live_adapt_option, load_recognizer, model_options, roi_option, speller_options
from asl.runtime.spelling import SpellerConfig


def _origins(ctx, param, values):
    """`scheme://host[:port]` as a browser sends it in its Origin header, or `*`."""
    for value in values:
        parts = urlsplit(value)
        if value != "*" and (parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")):
            raise click.BadParameter(f"{value!r}: expected an origin such as https://asl.example.org or http://192.168.1.5:8000, or *")
    return values


@click.command()
@model_options
@roi_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Browsers open the camera only on localhost or over https.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--allow-origin", "allow_origins", multiple=True, metavar="ORIGIN", callback=_origins,
              help="Also serve pages of this origin, e.g. https://asl.example.org (repeatable; '*' allows any). "
                   "By default only localhost, 127.0.0.1, [::1] and --host are served (DNS rebinding).")
@speller_options
@live_adapt_option
def serve(model, provider, strict, threads, profile, hand, roi, host, port, allow_origins, hold, window, min_prob, adapt):
    """Serve a web page that reads signs from the webcam and fingerspells them.

    The page sends camera frames to this server, which names the sign in the region of interest
    and types the held signs, as `asl live` does. Stop with Ctrl+C.
    """
    try:
        import uvicorn

        from asl.runtime.web.app import MAX_BYTES, create_app
    except ModuleNotFoundError as err:
        raise click.ClickException(f"`asl serve` needs {err.name}: pip install 'asl-edge[serve]'") from None

    recognizer = load_recognizer(model, provider, strict, threads, roi, hand, profile)
    if adapt:
        recognizer.adaptive_profile()   # one line now when the model cannot adapt
    app = create_app(recognizer, SpellerConfig(window=window, hold=hold, min_probability=min_prob), bind=host,
                     allow_origins=allow_origins, adapt=adapt)
    click.echo(f"open http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}/ (Ctrl+C to stop)", err=True)
    # A WebSocket message is read whole before the app sees it: bound it near the app's own limit.
    uvicorn.run(app, host=host, port=port, log_level="warning", ws_max_size=2 * MAX_BYTES)
