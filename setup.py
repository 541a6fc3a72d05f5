"""Packaging. ``plugins/`` and ``configs/`` install under the package (degrade_stream.plugins,
degrade_stream.configs): nothing top-level named ``plugins`` or ``configs`` lands in site-packages."""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent

library = find_packages(include=["degrade_stream", "degrade_stream.*"])
plugins = ["degrade_stream.plugins" + p[len("plugins"):] for p in find_packages(include=["plugins", "plugins.*"])]

setup(
    name="degrade_stream",
    version="0.1.0",
    description="Realistic (HQ, LQ) training pairs streamed from any DataLoader: handcrafted degradation "
                "refined by a DDPM trained on real low-quality images.",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=library + plugins + ["degrade_stream.configs"],
    package_dir={"degrade_stream.plugins": "plugins", "degrade_stream.configs": "configs"},
    package_data={
        "degrade_stream.configs": ["*.yaml", "*/*.yaml"],
        "degrade_stream": ["assets/*", "assets/*/*"],
        "degrade_stream.plugins": ["*/*.yml", "*/*.yaml", "*/*.py"],
    },
    include_package_data=False,
    install_requires=[
        "torch>=2.1",
        "torchdata>=0.10",
        "kornia>=0.7.4",
        "einops>=0.7",
        "torchvision>=0.16",  # FID's Inception-v3 (metrics/fid_inception.py); constraints.txt pins 0.28.0 for torch 2.13.0
        "numpy>=1.24",
        "pyyaml>=6.0",
        "pillow>=10.0",
        "tqdm>=4.60",
        "safetensors>=0.4",
    ],
    extras_require={
        # cmaes, ray, webdataset: the calibrate, Ray and shard tests run in CI
        "test": ["pytest>=7.4", "cmaes>=0.10", "ray[data]>=2.10", "webdataset>=1.0"],
        "calibrate": ["cmaes>=0.10"],  # degrade-stream calibrate's optimiser (CMA-ES, numpy only)
        "plot": ["matplotlib>=3.7"],
        "ray": ["ray[data]>=2.10"],  # degrade_stream.scale.ray_data: pairs over a Ray cluster (README "Scaling out")
        "webdataset": ["webdataset>=1.0"],  # synthesize --format webdataset, degrade_stream.shards
    },
    entry_points={"console_scripts": ["degrade-stream=degrade_stream.cli.main:main"]},
)
