"""The images a cell drew, as Claude sees them in the cell's tool result.

PNG and JPEG outputs become Anthropic image blocks, downscaled with Pillow; an SVG is
described in words (its size and the text in it), since rasterising it needs a system
library (docs/decisions.md). A turn sends at most `limit` images; the others are named in
the text. Decoding and scaling are CPU work: `TurnImages.take` runs them off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import io
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

RASTER = ("image/png", "image/jpeg")
SVG = "image/svg+xml"
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}

# Anthropic's vision guide ("Images and vision", "Evaluate image size",
# https://platform.claude.com/docs/en/build-with-claude/vision): an image whose long edge is
# over 1568 px, or over about 1,600 tokens, is first scaled down by the API, which adds
# time-to-first-token and no model performance; it recommends at most 1.15 megapixels and
# 1568 px in both dimensions. An image costs about width x height / 750 input tokens, so the
# default 1024 px long side costs at most ~1,400 tokens (a 4:3 chart ~1,050).
API_MAX_PX = 1568
API_MAX_PIXELS = 1_150_000
#: The API's limit on one image (we count the base64 payload, to be safe).
MAX_IMAGE_BASE64 = 5 * 1024 * 1024

#: Bounds on an SVG's description: strings quoted, characters per string, characters in all.
SVG_MAX_STRINGS = 40
SVG_MAX_STRING_CHARS = 100
SVG_MAX_CHARS = 1_000


@dataclass
class CellImages:
    """What one cell's images add to its tool result."""

    #: Image content blocks, in output order.
    blocks: list[dict[str, Any]] = field(default_factory=list)
    #: Output index -> the text that stands for its image (replaces "[image/png displayed]").
    notes: dict[int, str] = field(default_factory=dict)


class TurnImages:
    """The images Claude is shown during one turn: each downscaled, at most `limit` in all."""

    def __init__(self, max_px: int, limit: int, *, enabled: bool = True) -> None:
        self.max_px = max(16, min(int(max_px), API_MAX_PX))
        self.limit = max(0, int(limit))
        self.enabled = enabled
        self.sent = 0

    async def take(self, outputs: list[dict[str, Any]]) -> CellImages:
        """The images of a cell's outputs, using up the turn's allowance (off the loop)."""
        if not any(_image_mimes(o) for o in outputs):
            return CellImages()
        if not self.enabled:  # Claude is told there was an image, so it claims nothing about it
            return CellImages(
                notes={
                    i: f"[{', '.join(_image_mimes(o))} displayed] (not shown to you: images are turned off)"
                    for i, o in enumerate(outputs)
                    if _image_mimes(o)
                }
            )
        images = await asyncio.to_thread(
            prepare, outputs, max_px=self.max_px, first=self.sent + 1, slots=self.limit - self.sent, limit=self.limit
        )
        self.sent += len(images.blocks)
        return images


def _image_mimes(output: dict[str, Any]) -> list[str]:
    if output.get("output_type") not in ("display_data", "execute_result"):
        return []
    return [m for m in output.get("data", {}) if m.startswith("image/")]


def _text(data: Any) -> str:
    return "".join(data) if isinstance(data, list) else str(data)


def prepare(outputs: list[dict[str, Any]], *, max_px: int, first: int, slots: int, limit: int) -> CellImages:
    """Image blocks and notes for `outputs`: at most `slots` images, numbered from `first`."""
    result = CellImages()
    for index, output in enumerate(outputs):
        mimes = _image_mimes(output)
        raster = next((m for m in RASTER if m in mimes), None)
        if raster is not None:
            if len(result.blocks) >= slots:
                result.notes[index] = f"[{raster} displayed] (image not shown: limit of {limit} per turn)"
                continue
            try:
                block, size, original = downscale(_text(output["data"][raster]), raster, max_px)
            except Exception as err:  # whatever the data is, the turn goes on
                result.notes[index] = f"[{raster} displayed] (image could not be read: {type(err).__name__})"
                continue
            number = first + len(result.blocks)
            result.blocks.append(block)
            scaled = f", downscaled from {original[0]}×{original[1]}" if size != original else ""
            result.notes[index] = f"[{raster}: image {number}, shown below, {size[0]}×{size[1]} px{scaled}]"
        elif SVG in mimes:
            result.notes[index] = describe_svg(_text(output["data"][SVG]))
    return result


def downscale(data: str, mime: str, max_px: int) -> tuple[dict[str, Any], tuple[int, int], tuple[int, int]]:
    """A base64 PNG/JPEG as an image block whose long side is at most `max_px` (and at most
    API_MAX_PIXELS): (block, size sent, original size). An image already within bounds and
    in the format it claims is sent as it is."""
    raw = base64.b64decode(data)
    fmt = _FORMATS[mime]
    with Image.open(io.BytesIO(raw)) as img:
        original = img.size
        width, height = original
        scale = min(1.0, max_px / max(width, height), math.sqrt(API_MAX_PIXELS / (width * height)))
        if scale >= 1.0 and img.format == fmt and len(data) <= MAX_IMAGE_BASE64:
            img.verify()  # a truncated file must not reach the API
            return _block(mime, base64.b64encode(raw).decode("ascii")), original, original
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
        img.draft("RGB", target)  # JPEG: decode at a reduced scale, much faster; others: no-op
        image = img.convert("RGBA" if _has_alpha(img) and fmt == "PNG" else "RGB")
        if image.size != target:
            image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    encoded = _encode(image, fmt)
    if len(encoded) * 4 / 3 > MAX_IMAGE_BASE64 and fmt == "PNG":  # a noisy picture: JPEG is smaller
        mime, encoded = "image/jpeg", _encode(image.convert("RGB"), "JPEG")
    return _block(mime, base64.b64encode(encoded).decode("ascii")), image.size, original


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _block(mime: str, data: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": mime, "data": data}}


_SPACE = re.compile(r"\s+")


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _elements(element: ET.Element) -> Any:
    """The element and its descendants, less <metadata> (matplotlib names itself there)."""
    if _local(element.tag) == "metadata":
        return
    yield element
    for child in element:
        yield from _elements(child)


def describe_svg(svg: str) -> str:
    """An SVG in words: its size and the text of its <title>/<text> elements (bounded).

    Matplotlib draws text as paths and names it in a comment inside `<g id="text_N">`; those
    comments count as its text too.
    """
    try:
        parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
        root = ET.fromstring(svg.strip(), parser=parser)
    except ET.ParseError:
        return f"[{SVG} displayed] (it could not be read)"
    width, height = root.get("width"), root.get("height")
    if width and height:
        size = f"{width} × {height}"
    elif root.get("viewBox"):
        size = f"viewBox {root.get('viewBox')}"
    else:
        size = "size not given"
    strings: list[str] = []
    for element in _elements(root):
        name = _local(element.tag)
        if name in ("title", "text"):
            text = "".join(element.itertext())
        elif name == "g" and (element.get("id") or "").startswith("text_"):
            text = next((c.text or "" for c in element if c.tag is ET.Comment), "")
        else:
            continue
        text = _SPACE.sub(" ", text).strip()[:SVG_MAX_STRING_CHARS]
        if text and text not in strings:
            strings.append(text)
    quoted = ", ".join(f'"{s}"' for s in strings[:SVG_MAX_STRINGS])
    if len(quoted) > SVG_MAX_CHARS:
        quoted = quoted[:SVG_MAX_CHARS] + " …"
    elif len(strings) > SVG_MAX_STRINGS:
        quoted += f" … ({len(strings) - SVG_MAX_STRINGS} more)"
    words = f"its text: {quoted}" if strings else "no text in it"
    return f"[{SVG} displayed, described in words (not shown as an image): {size}; {words}]"
