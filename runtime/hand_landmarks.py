"""MediaPipe's hand landmark model in ONNX Runtime: 21 joints from the crop of one hand's region."""
from __future__ import annotations

import numpy as np

from asl.runtime.hand_roi import HandRoi, to_frame, warp

INPUT_SIZE = 224
MIN_PRESENCE = 0.5       # MediaPipe's min_tracking_confidence
EMBEDDING = "embedding"  # the output `asl export-hands` adds: the pooled features (1152 full, 672 lite)


class LandmarkModel:
    """Landmarks of the hand inside a rotated region, from `hand_landmark_{lite,full}.onnx`."""

    def __init__(self, session):
        self.session = session
        self._input = session.get_inputs()[0].name
        outputs = [o.name for o in session.get_outputs()]
        # `asl export-hands` exposes the pooled features the heads read; files converted before it do not.
        embeds = EMBEDDING in outputs
        self._outputs = ["landmarks", "presence", "handedness", "world_landmarks"] + ([EMBEDDING] if embeds else [])
        shape = session.get_outputs()[outputs.index(EMBEDDING)].shape if embeds else [0, 0]
        self.embedding_size = int(shape[-1])   # 0: none

    def run(self, frame: np.ndarray, roi: HandRoi) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray | None]:
        """(21×3 landmarks in frame pixels, 21×3 world landmarks in metres, presence, P(left hand), embedding).

        Landmark z is depth relative to the wrist, in the same pixel scale as x and y. P(left hand)
        is for the frame as given (not mirrored): the model's own label assumes a selfie view. The
        embedding is the model's pooled features of the crop (None from a file without them).
        """
        landmarks, presence, handedness, world, *embedding = self.session.run(
            self._outputs, {self._input: self._tensor(frame, roi)})
        points = landmarks.reshape(21, 3) / INPUT_SIZE
        world = world.reshape(21, 3)
        c, s = np.cos(roi.angle), np.sin(roi.angle)  # world landmarks come in the crop's frame: turn them back
        world = np.column_stack([world[:, 0] * c - world[:, 1] * s, world[:, 0] * s + world[:, 1] * c, world[:, 2]])
        # The model's score is "left hand" for a mirrored (selfie) picture, i.e. a right hand as the camera sees it.
        return (to_frame(points, roi), world.astype(np.float32), float(presence.ravel()[0]),
                1.0 - float(handedness.ravel()[0]), embedding[0][0] if embedding else None)

    def mirrored_embedding(self, frame: np.ndarray, roi: HandRoi) -> np.ndarray:
        """The embedding of the region's crop mirrored left to right: a left hand as a right hand looks."""
        mirrored = np.ascontiguousarray(self._tensor(frame, roi)[:, :, ::-1])
        return self.session.run([EMBEDDING], {self._input: mirrored})[0][0]

    @staticmethod
    def _tensor(frame: np.ndarray, roi: HandRoi) -> np.ndarray:
        crop = warp(frame, roi, INPUT_SIZE)
        return crop[None, :, :, ::-1].astype(np.float32) / 255.0
