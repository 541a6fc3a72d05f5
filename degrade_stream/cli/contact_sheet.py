"""A labelled contact sheet: one row per image set (HQ, handcrafted LQ, refined LQ...), one column per sample.

Every tile is the top-left square of the sample scaled to ``tile`` px: LQ with nearest neighbour, so its degradation stays visible pixel for pixel.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from ..atomic import atomic_target

TILE = 256
PAD = 8
LABEL_WIDTH = 168
FONT_SIZE = 15


def sheet_size(rows: int, columns: int, tile: int = TILE) -> tuple[int, int]:
    """(width, height) of a sheet with ``rows`` x ``columns`` tiles."""
    return LABEL_WIDTH + columns * (tile + PAD) + PAD, rows * (tile + PAD) + PAD


def _font() -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=FONT_SIZE)
    except (TypeError, OSError):  # Pillow < 10.1 or no FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _tile(path: Path, tile: int) -> Image.Image:
    """The top-left square of the image (its shorter side), resized to ``tile``.

    HQ and LQ of a pair show the same scene at sizes that differ by the scale factor, so their
    top-left squares show the same part of it.
    """
    with Image.open(path) as image:
        image = image.convert("RGB")
        side = min(image.size)
        crop = image.crop((0, 0, side, side))
    resample = Image.Resampling.NEAREST if side < tile else Image.Resampling.LANCZOS
    return crop.resize((tile, tile), resample)


def _wrap(text: str, width: int, draw: ImageDraw.ImageDraw, font: ImageFont.ImageFont) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + ([line] if line else [])


def contact_sheet(rows: Sequence[tuple[str, Sequence[Path]]], tile: int = TILE) -> Image.Image:
    """Rows of (label, image files, one per sample column); column j shows the same sample in every row."""
    columns = len(rows[0][1])
    if any(len(files) != columns for _, files in rows):
        raise ValueError("every row of the contact sheet needs the same number of images")
    sheet = Image.new("RGB", sheet_size(len(rows), columns, tile), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font()
    for i, (label, files) in enumerate(rows):
        top = PAD + i * (tile + PAD)
        lines = _wrap(label, LABEL_WIDTH - 2 * PAD, draw, font)
        line_height = FONT_SIZE + 4
        y = top + (tile - line_height * len(lines)) // 2
        for line in lines:
            draw.text((PAD, y), line, fill="black", font=font)
            y += line_height
        for j, path in enumerate(files):
            sheet.paste(_tile(path, tile), (LABEL_WIDTH + PAD + j * (tile + PAD), top))
    return sheet


def save_contact_sheet(rows: Sequence[tuple[str, Sequence[Path]]], path: Path, tile: int = TILE) -> Path:
    """Draw and write the sheet as PNG atomically."""
    image = contact_sheet(rows, tile)
    with atomic_target(path) as tmp:
        image.save(tmp, format="PNG")
    return path
