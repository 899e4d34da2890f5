"""How long-running work says how far it has got: a callback, so that only the command line draws bars."""
from __future__ import annotations

from typing import Callable

# progress(what, done, total): e.g. ("decoding home_signer", 640, 2048) or ("epoch 3/18", 40, 101).
Progress = Callable[[str, int, int], None]
