"""Shared fixtures: small HQ/LQ test images shipped in tests/data (no ../shared needed); the CI skip rule;
``require_framework`` for tests of the BasicSR/mmagic/diffusers comparisons and plugins."""
from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest
import torch

DATA = Path(__file__).parent / "data"
#: Under CI (``CI=true``, as .ci/run and hosted CI set it) every test must run: only tests that need CUDA may
#: skip, and their reason must say so. Any other skip -- a missing framework above all -- fails the run.
CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
INSTALL_HINT = "bash tests/install_frameworks.sh .venv/bin/python installs it"


def require_framework(name: str, prepare: Callable[[], None] | None = None) -> ModuleType:
    """Import the third-party module ``name`` (after ``prepare``, e.g. a compatibility shim) for a test.

    Not installed: the test is skipped, except under CI=true, where it fails. Installed but failing to
    import (a missing dependency of it, or an ImportError raised inside degrade_stream): always an error.
    """
    top = name.split(".")[0]
    if importlib.util.find_spec(top) is None:
        message = f"{top} is not installed ({INSTALL_HINT})"
        if CI:
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message, allow_module_level=True)
    if prepare is not None:
        prepare()
    return importlib.import_module(name)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def _fail_non_cuda_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under CI, turn a skip whose reason does not name CUDA into a failure that says why."""
    if CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if "cuda" not in reason.lower():
            report.outcome = "failed"
            report.longrepr = f"skipped under CI=true, where only tests that need CUDA may skip: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_non_cuda_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_non_cuda_skip(outcome.get_result())


#: A test module whose every test is slow says so on one top-level line; when the run deselects slow tests
#: (``pytest -m "not slow"``), such a module is not even imported, so the frameworks it loads at import time
#: (mmagic pulls diffusers, Ray, BasicSR: several seconds each) cost the inner loop nothing.
WHOLE_MODULE_SLOW = "pytestmark = pytest.mark.slow"


def _deselects_slow(config: pytest.Config) -> bool:
    """True when the ``-m`` expression rejects a test marked slow and nothing else."""
    expression = config.getoption("markexpr", "") or ""
    if not expression.strip():
        return False
    from _pytest.mark.expression import Expression  # pytest's own parser for -m, as its deselection uses

    return not Expression.compile(expression).evaluate(lambda name, **kwargs: name == "slow")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    if not _deselects_slow(config):
        return None
    lines = collection_path.read_text(encoding="utf-8").splitlines()
    return True if WHOLE_MODULE_SLOW in (line.strip() for line in lines) else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def hq_batch() -> torch.Tensor:
    """(8, 3, 64, 64) crops of the HQ test images, in [0, 1]."""
    from degrade_stream.io import list_images, load_image

    crops = []
    for path in list_images(DATA / "hq"):
        img = load_image(path)
        for y, x in ((0, 0), (96, 96)):
            crops.append(img[:, y:y + 64, x:x + 64])
    return torch.stack(crops[:8])


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: torch's thread pool costs more than it gains on a shared 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _isolated_torch_rng():
    """Every test starts from the same global torch RNG state, and a test that seeds it (to build a
    random network, say) cannot change what later tests draw: results do not depend on test order."""
    with torch.random.fork_rng(devices=[]):
        yield
