"""GFPGAN's option keys read as they are (option_files/gfpgan.py): the degradation section of
options/train_gfpgan_v1.yml (shipped as tests/data/options/train_gfpgan_v1.yml, its source recorded there) loads
unchanged into a chain equal to the shipped ``gfpgan``, by ``options:`` in a chain YAML or by the import
functions; a misspelt key names itself and the closest known one."""
from __future__ import annotations

import pytest
import torch
import yaml

import degrade_stream as ds
from conftest import DATA
from degrade_stream.core.errors import ConfigError
from degrade_stream.option_files import chain_from_options, stage_from_options

OPTIONS = DATA / "options" / "train_gfpgan_v1.yml"


def _options(**train) -> dict:
    options = yaml.safe_load(OPTIONS.read_text())
    options["datasets"]["train"].update(train)
    return options


def test_train_gfpgan_v1_loads_unchanged_into_the_shipped_gfpgan_chain():
    shipped = ds.load_chain("gfpgan")
    imported = ds.load_chain(chain_from_options(OPTIONS))
    assert imported.stages == shipped.stages
    by_option = ds.load_chain({"stages": [{"type": "face", "options": str(OPTIONS)}]})
    assert by_option.stages == shipped.stages
    hq = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    assert torch.equal(by_option(hq, seed=3).lq, shipped(hq, seed=3).lq)


def test_the_reference_is_recognised_and_yaml_arguments_override_the_file():
    assert stage_from_options(OPTIONS)["type"] == "face"
    chain = ds.load_chain({"stages": [{"type": "face", "options": str(OPTIONS), "gray_prob": 0.0}]})
    assert chain.stages[0].gray_prob == 0.0 and chain.stages[0].color_jitter_pt_prob == 0.3


def test_nulls_and_missing_keys_follow_the_dataset():
    # FFHQDegradationDataset reads the colour keys with opt.get: absent or ~ is off; noise_range ~ is no noise
    stage = stage_from_options(_options(color_jitter_prob=None, color_jitter_pt_prob=None, noise_range=None,
                                        hue=None), reference="gfpgan")
    assert stage["color_jitter_prob"] == stage["color_jitter_pt_prob"] == 0.0
    assert stage["noise_range"] == [0.0, 0.0] and stage["hue"] == [0.0, 0.0]
    options = _options()
    del options["datasets"]["train"]["gray_prob"]
    assert stage_from_options(options, reference="gfpgan")["gray_prob"] == 0.0


@pytest.mark.parametrize("train,path,message", [
    ({"blur_sigmma": [0.1, 10]}, "datasets.train.blur_sigmma", "did you mean 'blur_sigma'"),
    ({"kernel_list": ["iso", "sinc"]}, "kernel_list", "'sinc' is not a kernel of the face stage"),
    ({"gt_gray": True}, "gt_gray", "leaves the GT as it is"),
    ({"jpeg_range": None}, "jpeg_range", "always compresses"),
    ({"downsample_range": [8, 0.8]}, "downsample_range", "downsample_range"),
])
def test_bad_keys_name_themselves(train, path, message):
    with pytest.raises(ConfigError) as err:
        ds.load_chain(chain_from_options(_options(**train), reference="gfpgan"))
    assert path in str(err.value) and message in str(err.value)


def test_import_options_writes_the_gfpgan_chain(tmp_path):
    from reliability_helpers import run_in_process

    out = tmp_path / "gfpgan_imported.yaml"
    result = run_in_process("import-options", OPTIONS, "--out", out)
    assert result.returncode == 0, result.stderr
    assert ds.load_chain(out).stages == ds.load_chain("gfpgan").stages
