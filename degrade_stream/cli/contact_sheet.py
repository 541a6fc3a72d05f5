"""A labelled contact sheet: one row per sample (its name on the left), one captioned tile per image of it
(HQ, handcrafted LQ, refined LQ...); rows may hold different numbers of tiles (the demo's face row has five).

Every tile is the top-left square of the image scaled to ``tile`` px: LQ with nearest neighbour, so its
degradation stays visible pixel for pixel.
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
LINE = FONT_SIZE + 4
CAPTION = 2 * LINE + 4  # room for a caption of up to two lines above each tile

Row = tuple[str, Sequence[tuple[str, Path]]]  # (sample label, [(caption, image file), ...])


def sheet_size(rows: int, columns: int, tile: int = TILE) -> tuple[int, int]:
    """(width, height) of a sheet with ``rows`` rows of at most ``columns`` tiles."""
    return LABEL_WIDTH + columns * (tile + PAD) + PAD, rows * (CAPTION + tile + PAD) + PAD


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


def contact_sheet(rows: Sequence[Row], tile: int = TILE) -> Image.Image:
    """Rows of (label, [(caption, image file), ...]); each row one sample, each tile one version of it."""
    if not rows or any(not tiles for _, tiles in rows):
        raise ValueError("a contact sheet needs at least one row, and every row at least one image")
    sheet = Image.new("RGB", sheet_size(len(rows), max(len(tiles) for _, tiles in rows), tile), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font()
    for i, (label, tiles) in enumerate(rows):
        top = PAD + i * (CAPTION + tile + PAD)
        lines = _wrap(label, LABEL_WIDTH - 2 * PAD, draw, font)
        y = top + CAPTION + (tile - LINE * len(lines)) // 2
        for line in lines:
            draw.text((PAD, y), line, fill="black", font=font)
            y += LINE
        for j, (caption, path) in enumerate(tiles):
            left = LABEL_WIDTH + PAD + j * (tile + PAD)
            for k, line in enumerate(_wrap(caption, tile, draw, font)[:2]):
                draw.text((left, top + k * LINE), line, fill="black", font=font)
            sheet.paste(_tile(path, tile), (left, top + CAPTION))
    return sheet


def save_contact_sheet(rows: Sequence[Row], path: Path, tile: int = TILE) -> Path:
    """Draw and write the sheet as PNG atomically."""
    image = contact_sheet(rows, tile)
    with atomic_target(path) as tmp:
        image.save(tmp, format="PNG")
    return path
