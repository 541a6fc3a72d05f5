"""Image loading converts every mode to RGB float in [0, 1]; writes are atomic."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from degrade_stream.io import list_images, load_image, save_image


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "RGB"])
def test_any_mode_loads_as_rgb(tmp_path, mode):
    rng = np.random.default_rng(0)
    if mode == "I;16":
        img = Image.fromarray((rng.random((10, 12)) * 65535).astype(np.uint16))
    else:
        img = Image.fromarray((rng.random((10, 12, 3)) * 255).astype(np.uint8)).convert(mode)
    path = tmp_path / "x.png"
    img.save(path)
    t = load_image(path)
    assert t.shape == (3, 10, 12) and t.dtype == torch.float32
    assert 0.0 <= float(t.min()) and float(t.max()) <= 1.0
    if mode == "I;16":
        assert abs(float(t[0, 0, 0]) - np.asarray(img)[0, 0] / 65535) < 1e-6


def test_shipped_gray_and_rgba_images_load(data_dir):
    for name in ("realesrgan_inputs__00017_gray.png", "kair_realfaces__face_01.png"):
        assert load_image(data_dir / "lq" / name).shape[0] == 3


def test_corrupt_file_names_the_file(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(ValueError, match="broken.png"):
        load_image(bad)


def test_save_round_trip_and_no_temp_left(tmp_path):
    img = torch.rand(3, 9, 7)
    path = save_image(img, tmp_path / "sub" / "a.png")
    back = load_image(path)
    assert torch.allclose(back, (img * 255).round() / 255, atol=1e-6)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["a.png"]


def test_list_images_recursive(tmp_path, data_dir):
    (tmp_path / "a" / "b").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "a" / "b" / "x.PNG")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in list_images(tmp_path)] == ["x.PNG"]
    with pytest.raises(FileNotFoundError):
        list_images(tmp_path / "missing")
