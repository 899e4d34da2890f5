"""`asl serve`: the browser demo. The page streams webcam frames to a local FastAPI server that runs the
recognizer and the speller, so the browser needs no model and the server needs no torch."""
