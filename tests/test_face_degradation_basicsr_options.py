"""plugins/basicsr/train_face_restorer_gfpgan_model.yml: it parses, names the gfpgan chain at scale 1, and a tiny
copy trains 4 iterations through BasicSR's own training loop on the CPU and saves a loadable RRDBNet."""
from __future__ import annotations

import copy
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from conftest import require_framework
from degrade_stream.compat import alias_torchvision_functional_tensor

# The whole module is slow: importing its framework takes seconds (conftest skips it under -m "not slow").
pytestmark = pytest.mark.slow
require_framework("basicsr", prepare=alias_torchvision_functional_tensor)

import degrade_stream as ds  # noqa: E402
from degrade_stream.plugins.basicsr import option_files  # noqa: E402

HQ = Path(__file__).parent / "data" / "hq"
NAME = "train_face_restorer_gfpgan_model"


def test_face_options_name_the_gfpgan_chain_at_scale_one():
    opt = yaml.safe_load(option_files()[NAME].read_text())
    assert opt["model_type"] == "DegradeStreamModel" and opt["datasets"]["train"]["type"] == "DegradeStreamHQDataset"
    assert opt["degrade_stream"] == "gfpgan"
    assert ds.load_chain(opt["degrade_stream"]).scale == opt["scale"] == opt["network_g"]["scale"] == 1
    assert opt["datasets"]["train"]["gt_size"] == 512


@pytest.mark.slow
def test_face_options_train_four_iterations_on_the_cpu(tmp_path):
    opt = copy.deepcopy(yaml.safe_load(option_files()[NAME].read_text()))
    opt.update(name="tiny_face", num_gpu=0, manual_seed=3)
    opt["datasets"]["train"].update(dataroot_gt=str(HQ), gt_size=64, batch_size_per_gpu=2, num_worker_per_gpu=1,
                                    dataset_enlarge_ratio=2)
    opt["network_g"].update(num_feat=8, num_block=1, num_grow_ch=8)
    opt["train"].update(total_iter=4)
    opt["train"]["scheduler"].update(milestones=[2])
    opt["logger"].update(print_freq=1, save_checkpoint_freq=1000)
    options = tmp_path / "options.yml"
    options.write_text(yaml.safe_dump(opt))
    run = subprocess.run([sys.executable, "-m", "degrade_stream.plugins.basicsr.train", "-opt", str(options)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    experiment = tmp_path / "experiments" / "tiny_face"
    log = next(experiment.glob("train_*.log")).read_text()
    losses = [float(v) for v in re.findall(r"l_pix: ([0-9.e+-]+)", log)]
    assert [int(v) for v in re.findall(r"iter:\s+(\d+),", log)] == [1, 2, 3, 4] and len(losses) == 4
    assert all(math.isfinite(v) for v in losses)
    from basicsr.archs.rrdbnet_arch import RRDBNet

    saved = torch.load(experiment / "models" / "net_g_latest.pth", map_location="cpu", weights_only=True)
    net = RRDBNet(**{k: v for k, v in opt["network_g"].items() if k != "type"})
    net.load_state_dict(saved["params"])
    assert net(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)
