"""degrade-stream calibrate refuses bad input with one clear line (exit 2) and writes nothing."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("cmaes", reason="calibrate needs the 'calibrate' extra (cmaes)")

from degrade_stream.calibrate import calibrate  # noqa: E402
from degrade_stream.cli.main import main  # noqa: E402
from degrade_stream.io import save_image  # noqa: E402

DATA = Path(__file__).parent / "data"


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture, *args: str) -> str:
    out = tmp_path / "out" / "cal.yaml"
    code = main(["calibrate", "--no-progress", "--out", str(out), "--budget", "3", "--crops", "2", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert err.startswith("degrade-stream calibrate: error: ") and err.count("\n") == 1
    return err


def test_empty_real_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "empty").mkdir()
    err = _refused(tmp_path, capsys, "--config", "classical", "--real", str(tmp_path / "empty"), "--hq", str(DATA / "hq"))
    assert f"--real: no image files under {tmp_path / 'empty'}" in err


def test_missing_and_unreadable_folders(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    err = _refused(tmp_path, capsys, "--config", "classical", "--real", str(DATA / "lq"), "--hq", str(tmp_path / "nope"))
    assert f"--hq: no such folder {tmp_path / 'nope'}" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.png").write_bytes(b"not a png")
    err = _refused(tmp_path, capsys, "--config", "classical", "--real", str(broken), "--hq", str(DATA / "hq"))
    assert "--real: no usable real image" in err and "a.png" in err
    err = _refused(tmp_path, capsys, "--config", "classical", "--real", str(DATA / "lq"), "--hq", str(broken))
    assert "--hq: no readable HQ image among 1 files" in err and "a.png" in err


def test_unknown_params_name_suggests_the_closest(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    err = _refused(tmp_path, capsys, "--config", "realesrgan", "--real", str(DATA / "lq"), "--hq", str(DATA / "hq"),
                   "--params", "noise_range,jpeg_rang")
    assert "--params: the chain has no tunable argument 'jpeg_rang' (did you mean 'jpeg_range'?)" in err
    err = _refused(tmp_path, capsys, "--config", "realesrgan", "--real", str(DATA / "lq"), "--hq", str(DATA / "hq"),
                   "--params", "scale")  # structure, not a tunable argument
    assert "no tunable argument 'scale'" in err


@pytest.mark.parametrize("config", ["identity", "bicubic"])
def test_chain_with_nothing_tunable(tmp_path: Path, capsys: pytest.CaptureFixture, config: str) -> None:
    err = _refused(tmp_path, capsys, "--config", config, "--real", str(DATA / "lq"), "--hq", str(DATA / "hq"))
    assert f"the chain ({config}) has nothing to calibrate" in err


def test_hq_image_smaller_than_the_chain_needs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    small = tmp_path / "small"
    save_image(torch.full((3, 24, 40), 0.5), small / "tiny.png")
    err = _refused(tmp_path, capsys, "--config", "realesrgan", "--real", str(DATA / "lq"), "--hq", str(small))
    assert "--hq: image tiny.png is 40x24, smaller than the chain and a 32-px patch need (128x128 px at least)" in err


def test_pairs_with_mismatched_sizes_and_missing_lq(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pairs = tmp_path / "pairs"
    save_image(torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0)), pairs / "gt" / "a.png")
    save_image(torch.rand(3, 32, 64, generator=torch.Generator().manual_seed(1)), pairs / "lq" / "a.png")
    chain = str(tmp_path / "jpeg.yaml")
    Path(chain).write_text("stages:\n  - type: jpeg\n    jpeg_range: [30, 95]\n")
    err = _refused(tmp_path, capsys, "--config", chain, "--pairs", str(pairs))
    assert f"--pairs: {pairs / 'lq' / 'a.png'} is 64x32 but its HQ a.png is 64x64" in err
    (pairs / "lq" / "a.png").rename(pairs / "lq" / "b.png")
    err = _refused(tmp_path, capsys, "--config", chain, "--pairs", str(pairs))
    assert "--pairs: no image under" in err and "has an image of the same name" in err
    err = _refused(tmp_path, capsys, "--config", chain, "--pairs", str(pairs), "--real", str(DATA / "lq"))
    assert "--pairs replaces --real and --hq" in err


def test_missing_cmaes_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cmaes", None)  # import cmaes now raises ImportError
    with pytest.raises(ImportError, match=r"optional package 'cmaes': pip install 'degrade_stream\[calibrate\]'"):
        calibrate("classical", real=DATA / "lq", hq=DATA / "hq", budget=2)
