"""Components for pictures users draw or upload, shared by the image tabs."""

from __future__ import annotations

import gradio as gr
from PIL import Image, UnidentifiedImageError


class PictureEditor(gr.ImageEditor):
    """gr.ImageEditor whose upload step turns "not an image" into a message instead of a crash.

    Gradio decodes an upload inside the component's preprocess, before any handler runs, so a
    handler cannot catch a text file sent as a picture. `is_template` keeps the browser side the
    plain image editor (as gr.Sketchpad does).
    """

    is_template = True

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as err:
            raise gr.Error(
                f"That file could not be read as a picture ({type(err).__name__}); upload a PNG or JPEG."
            ) from None
