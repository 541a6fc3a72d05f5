"""degrade-stream calibrate: determinism, round-trip, bounds, recovery of a known JPEG range, pairs mode."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("cmaes", reason="calibrate needs the 'calibrate' extra (cmaes)")

from degrade_stream.calibrate import SearchSpace, calibrate  # noqa: E402
from degrade_stream.calibrate.search import search  # noqa: E402
from degrade_stream.cli.main import main  # noqa: E402
from degrade_stream.core.config import chain_from_dict, load_chain  # noqa: E402
from degrade_stream.io import list_images, load_image, save_image  # noqa: E402

DATA = Path(__file__).parent / "data"
JPEG_START = {"name": "jpeg_only", "stages": [{"type": "jpeg", "jpeg_range": [30.0, 95.0]}]}


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 HQ tiles of 64 px from the test images, their JPEG-[40, 50] LQ (one seed per tile), as folders and pairs."""
    root = tmp_path_factory.mktemp("calibrate_tiles")
    target = chain_from_dict({"stages": [{"type": "jpeg", "jpeg_range": [40.0, 50.0]}]})
    k = 0
    for path in list_images(DATA / "hq"):
        image = load_image(path)
        for y in range(0, 256, 64):
            for x in range(0, 256, 64):
                tile = image[:, y:y + 64, x:x + 64]
                lq = target(tile[None], seed=1000 + k).lq[0]
                for folder, picture in (("hq", tile), ("real", lq), ("pairs/gt", tile), ("pairs/lq", lq)):
                    save_image(picture, root / folder / f"{k:02d}.png")
                k += 1
    return root


def _run(*args: str) -> int:
    return main(["calibrate", "--no-progress", *args])


@pytest.mark.slow
def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.yaml"
        assert _run("--config", "realesrgan", "--real", str(DATA / "lq"), "--hq", str(DATA / "hq"), "--out", str(out),
                    "--budget", "5", "--crops", "2", "--seed", "3") == 0
        outs.append((out.read_text(), out.with_suffix(".json").read_text()))
    assert outs[0] == outs[1]
    other = tmp_path / "c.yaml"
    assert _run("--config", "realesrgan", "--real", str(DATA / "lq"), "--hq", str(DATA / "hq"), "--out", str(other),
                "--budget", "5", "--crops", "2", "--seed", "4") == 0
    assert other.read_text() != outs[0][0]  # the seed matters (crops, chain seeds and search)


def test_yaml_round_trips_and_report_holds_what_moved(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cal.yaml"
    assert _run("--config", "classical", "--real", str(DATA / "lq"), "--hq", str(DATA / "hq"), "--out", str(out),
                "--budget", "8", "--crops", "4") == 0
    printed = capsys.readouterr().out
    written = yaml.safe_load(out.read_text())
    chain = load_chain(out)
    assert chain.to_config()["stages"] == written["stages"]
    assert load_chain(chain.to_config()).to_config() == chain.to_config()
    assert written["name"] == "classical_calibrated"
    report = json.loads(out.with_suffix(".json").read_text())
    start = load_chain("classical").to_config()["stages"][0]
    for row in report["moved"]:
        name = row["argument"].split(".", 1)[1]
        assert row["from"] == pytest.approx(start[name]) and row["to"] == pytest.approx(written["stages"][0][name])
        assert row["from"] != row["to"]
        assert f"{row['argument']}:" in printed
    unmoved = [a for a in report["tuned"] if a not in {r["argument"] for r in report["moved"]}]
    for label in unmoved:
        name = label.split(".", 1)[1]
        assert written["stages"][0][name] == start[name]
    assert report["distance_after"]["objective"] <= report["distance_before"]["objective"]
    assert set(report["shifts_before"]) == set(report["shifts_after"]) and "chroma_noise_sigma" in report["shifts_after"]


def test_every_candidate_and_the_result_stay_in_bounds() -> None:
    space = SearchSpace(load_chain("realesrgan"))
    # a wide step and a score that pulls to a corner push CMA-ES against the bounds
    result = search(space, lambda c: {"objective": float(-np.sum(space.encode()))}, budget=150, seed=0, sigma=1.0,
                    progress=False, keep_configs=True)
    corners = [space.config_for(np.zeros(space.dim)), space.config_for(np.ones(space.dim))]
    assert len(result.configs) == 150
    for config in result.configs + corners + [space.config_for(result.best)]:
        stage = config["stages"][0]
        chain_from_dict(config)  # the stage's own checks accept it
        for name, value in stage.items():
            if name.endswith(("_range", "blur_sigma", "blur_sigma2")):
                assert value[0] <= value[1], (name, value)
            if name.endswith(("prob", "prob2")):
                values = value if isinstance(value, list) else [value]
                assert all(0.0 <= v <= 1.0 for v in values), (name, value)
        assert 1.0 <= stage["jpeg_range"][0] and stage["jpeg_range2"][1] <= 100.0
        assert stage["kernel_range"][0] % 2 == 1 and stage["kernel_range"][1] % 2 == 1
        assert 3 <= stage["kernel_range"][0] and stage["kernel_range"][1] <= 21
        assert stage["noise_range"][0] >= 0.0 and stage["noise_range"][1] <= 50.0
        assert stage["scale"] == 4 and stage["resize_back"] is False  # structure is never tuned
    assert corners[0]["stages"][0]["jpeg_range"] == [1.0, 1.0]
    assert corners[1]["stages"][0]["jpeg_range"] == [100.0, 100.0]
    assert corners[1]["stages"][0]["kernel_range"] == [21, 21]
    assert corners[1]["stages"][0]["kernel_prob"] == [pytest.approx(1 / 6, abs=1e-4)] * 6


def test_search_space_keeps_structure_and_names_what_it_tunes() -> None:
    space = SearchSpace(load_chain("classical"))
    assert [k.name for k in space.knobs] == ["kernel_range", "iso_aniso_prob", "blur_sigma", "noise_range",
                                             "gray_noise_prob", "jpeg_range"]
    assert space.dim == 2 + 2 + 2 + 2 + 1 + 2
    assert space.config_for(space.encode()) == load_chain("classical").to_config()  # the start decodes to itself


@pytest.mark.slow
def test_recovers_a_known_jpeg_range(tiles: Path) -> None:
    """Target: JPEG quality U(40, 50), one draw per tile; start: U(30, 95). The 80 crops are the whole tiles, so
    synthetic and real patches sit at the same places and only the degradation differs. Tolerance: the fitted range
    overlaps [40, 50], its midpoint is within 45 +- 8 (start 62.5) and its width is below 50 (start 65). Why that
    loose: the statistics pin the quality level well but the width poorly (a Gaussian fit over 80 draws; the
    objective is flat to ~0.05 around the target, whose own value is ~0.2 because the synthetic draws are not the
    target's), so CMA-ES stops anywhere in that basin, and now and then outside it: measured (budget 50, since
    the 64-bit sample keys of issue 23), seeds 0-5: [33.9, 82.5] (objective 0.309, the one miss), [25.5, 68.0]
    (0.207), [44.8, 45.5] (0.149), [44.4, 46.7] (0.221), [41.6, 44.7] (0.273), [39.3, 52.5] (0.159). So the test
    takes the better of two restarts (seeds 0 and 1) by the objective, as a user would."""
    runs = [calibrate(JPEG_START, real=str(tiles / "real"), hq=str(tiles / "hq"), budget=50, seed=seed,
                      params=["jpeg_range"], crops=80, crop=64, patches_per_crop=25, patches_per_image=25,
                      progress=False) for seed in (0, 1)]
    result = min(runs, key=lambda r: r.report["distance_after"]["objective"])
    low, high = result.config["stages"][0]["jpeg_range"]
    assert low <= 50.0 and high >= 40.0 and abs((low + high) / 2 - 45.0) <= 8.0 and high - low < 50.0, (low, high)
    assert result.report["distance_after"]["objective"] < 0.7 * result.report["distance_before"]["objective"]
    assert [r["argument"] for r in result.report["moved"]] == ["stages[0].jpeg_range"]


def test_pairs_mode_compares_each_lq_with_its_own(tiles: Path) -> None:
    result = calibrate(JPEG_START, pairs=str(tiles / "pairs"), budget=12, seed=0, params=["jpeg_range"], crops=80,
                       crop=64, patches_per_crop=25, progress=False)
    before, after = result.report["distance_before"], result.report["distance_after"]
    assert after["objective_per_pair"] < before["objective_per_pair"]
    assert after["objective"] == pytest.approx(after["objective_frechet"] + after["objective_per_pair"], abs=2e-4)
    assert "per-pair" in result.report["objective"] and result.report["target"].startswith("pairs ")


def test_real_list_file_is_accepted(tmp_path: Path) -> None:
    """--real LIST.txt: '#' comments, paths relative to the list or absolute; patches as evaluate cuts them."""
    (tmp_path / "imgs").mkdir()
    first, second = list_images(DATA / "lq")[:2]
    (tmp_path / "imgs" / first.name).write_bytes(first.read_bytes())
    listing = tmp_path / "real.txt"
    listing.write_text(f"# two real images\nimgs/{first.name}\n{second}\n")
    result = calibrate(JPEG_START, real=str(listing), hq=str(DATA / "hq"), budget=3, crops=4, progress=False,
                       params=["jpeg_range"])
    expected = sum(min(64, ((h - 32) // 8 + 1) * ((w - 32) // 8 + 1))
                   for h, w in (load_image(p).shape[1:] for p in (first, second)))
    assert result.report["settings"]["real_patches"] == expected
    assert math.isfinite(result.report["distance_after"]["objective"])
