"""core/device.py: the environment override, the dtype policy and the header-strip summary.

`get_device` is cached for the life of the process, so every test that changes the environment
clears that cache before and after (the `fresh_device` fixture).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

import pytest
import torch

from core import device as dev
from tests.conftest import REPO_ROOT


@pytest.fixture
def fresh_device(monkeypatch):
    """A clean environment and an empty get_device cache, restored afterwards."""
    monkeypatch.delenv(dev.DEVICE_ENV, raising=False)
    monkeypatch.delenv(dev.DTYPE_ENV, raising=False)
    dev.get_device.cache_clear()
    yield monkeypatch
    dev.get_device.cache_clear()


@pytest.fixture
def no_gpu(fresh_device):
    """Pretend this is a CPU-only machine, whatever the hardware (this one has no GPU anyway)."""
    fresh_device.setattr(torch.cuda, "is_available", lambda: False)
    fresh_device.setattr(dev, "_mps_available", lambda: False)
    return fresh_device


def test_override_cpu_is_honoured(fresh_device):
    fresh_device.setenv(dev.DEVICE_ENV, "cpu")
    assert dev.get_device() == torch.device("cpu")


def test_override_is_read_with_surrounding_whitespace(fresh_device):
    fresh_device.setenv(dev.DEVICE_ENV, "  cpu \n")
    assert dev.get_device() == torch.device("cpu")


def test_without_override_a_cpu_only_machine_gets_cpu(no_gpu):
    assert dev.get_device() == torch.device("cpu")


def test_without_override_cuda_is_preferred(fresh_device):
    fresh_device.setattr(torch.cuda, "is_available", lambda: True)
    assert dev.get_device() == torch.device("cuda")


def test_get_device_is_cached(fresh_device):
    fresh_device.setenv(dev.DEVICE_ENV, "cpu")
    first = dev.get_device()
    fresh_device.setenv(dev.DEVICE_ENV, "not-a-device")  # ignored: the answer is cached
    assert dev.get_device() is first


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_override_without_cuda_raises_clearly(no_gpu, name):
    no_gpu.setenv(dev.DEVICE_ENV, name)
    with pytest.raises(RuntimeError) as caught:
        dev.get_device()
    message = str(caught.value)
    assert dev.DEVICE_ENV in message
    assert name in message
    assert "CUDA is not available" in message


def test_cuda_index_beyond_the_gpus_present_raises(fresh_device):
    fresh_device.setattr(torch.cuda, "is_available", lambda: True)
    fresh_device.setattr(torch.cuda, "device_count", lambda: 1)
    fresh_device.setenv(dev.DEVICE_ENV, "cuda:3")
    with pytest.raises(RuntimeError, match=r"only 1 GPU\(s\) exist"):
        dev.get_device()


def test_mps_override_without_mps_raises(no_gpu):
    no_gpu.setenv(dev.DEVICE_ENV, "mps")
    with pytest.raises(RuntimeError, match="MPS is not available"):
        dev.get_device()


@pytest.mark.parametrize("name", ["banana", "gpu", "cuda:x"])
def test_unparseable_override_raises(fresh_device, name):
    fresh_device.setenv(dev.DEVICE_ENV, name)
    with pytest.raises(RuntimeError, match="is not a device name"):
        dev.get_device()


@pytest.mark.parametrize("name", ["meta", "xla"])
def test_device_type_the_playground_does_not_support_raises(fresh_device, name):
    fresh_device.setenv(dev.DEVICE_ENV, name)
    with pytest.raises(RuntimeError, match="use cpu, cuda, cuda:N or mps"):
        dev.get_device()


def test_dtype_is_float32_by_default():
    assert dev.dtype_for(torch.device("cpu")) is torch.float32


def test_dtype_on_cpu_stays_float32_even_when_half_is_allowed(fresh_device):
    assert dev.dtype_for(torch.device("cpu"), allow_half=True) is torch.float32
    assert dev.half_dtype(torch.device("cpu")) is None


def test_dtype_on_mps_stays_float32_even_when_half_is_allowed():
    assert dev.dtype_for(torch.device("mps"), allow_half=True) is torch.float32


def test_dtype_for_without_a_device_uses_get_device(fresh_device):
    fresh_device.setenv(dev.DEVICE_ENV, "cpu")
    assert dev.dtype_for(allow_half=True) is torch.float32


@pytest.mark.parametrize(("bf16", "expected"), [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_half_dtype_follows_bf16_support(fresh_device, bf16, expected):
    fresh_device.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)
    cuda = torch.device("cuda")
    assert dev.dtype_for(cuda, allow_half=True) is expected
    assert dev.dtype_for(cuda) is torch.float32  # a concept that does not opt in gets float32


def test_dtype_env_turns_half_precision_off(fresh_device):
    fresh_device.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    fresh_device.setenv(dev.DTYPE_ENV, "float32")
    assert dev.dtype_for(torch.device("cuda"), allow_half=True) is torch.float32


@pytest.mark.parametrize(
    ("dtype", "name"), [(torch.float32, "float32"), (torch.float16, "fp16"), (torch.bfloat16, "bf16")]
)
def test_dtype_names(dtype, name):
    assert dev.dtype_name(dtype) == name


def test_describe_cpu(fresh_device):
    fresh_device.setenv(dev.DEVICE_ENV, "cpu")
    report = dev.describe()
    assert report.device == "cpu"
    assert report.name == "CPU"
    assert report.default_dtype == "float32"
    assert report.half_dtype is None
    assert report.threads == torch.get_num_threads()
    match = re.fullmatch(r"CPU, (\d+) threads, float32", report.summary)
    assert match, report.summary
    assert int(match.group(1)) == torch.get_num_threads() >= 1


def test_describe_reports_the_processs_thread_setting():
    # OMP_NUM_THREADS is the setting the README recommends for a lecture hall
    code = "from core.device import describe; import torch; print(describe(torch.device('cpu')).summary)"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "CPU, 1 thread, float32"


def test_gpu_summary_names_the_gpu_and_its_half_dtype():
    report = dev.DeviceReport("cuda:0", "NVIDIA H100 80GB HBM3", 16, "float32", "bf16")
    assert report.summary == "NVIDIA H100 80GB HBM3, bf16"
    assert dev.DeviceReport("mps", "Apple GPU (MPS)", 8, "float32", None).summary == "Apple GPU (MPS), float32"


def _in_thread(fn):
    """fn's result, computed in a new OS thread (as Gradio runs handlers in worker threads)."""
    result = []
    worker = threading.Thread(target=lambda: result.append(fn()))
    worker.start()
    worker.join()
    return result[0]


def test_single_cpu_thread_nests_and_restores_the_ordinary_setting():
    ordinary = dev.ordinary_cpu_threads()
    assert torch.get_num_threads() == ordinary
    with dev.single_cpu_thread():
        assert torch.get_num_threads() == 1
        with dev.single_cpu_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1  # the outer run is still going
    assert torch.get_num_threads() == ordinary


def test_each_thread_gets_its_setting_back_when_tiny_runs_overlap():
    """Two sessions' tiny-model runs in two worker threads, the first finishing while the second runs:
    the first thread must not keep one thread for the heavy requests it serves next."""
    first_inside, second_inside, first_done, second_may_finish = (threading.Event() for _ in range(4))
    seen = {}

    def first():
        with dev.single_cpu_thread():
            first_inside.set()
            second_inside.wait(10)
        seen["first after"] = torch.get_num_threads()
        first_done.set()
        second_may_finish.wait(10)

    def second():
        first_inside.wait(10)
        with dev.single_cpu_thread():
            second_inside.set()
            first_done.wait(10)
            seen["second inside, first done"] = torch.get_num_threads()
        seen["second after"] = torch.get_num_threads()
        second_may_finish.set()

    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(20)
    ordinary = dev.ordinary_cpu_threads()
    assert seen == {"first after": ordinary, "second inside, first done": 1, "second after": ordinary}


def test_single_threaded_computes_each_item_on_one_thread_whichever_thread_asks():
    def items():
        for n in range(3):
            yield n, torch.get_num_threads()  # the setting while the item is computed

    stream = dev.single_threaded(items())
    # a Gradio generator handler: each step may run in a different worker thread
    steps = [_in_thread(lambda: (next(stream), torch.get_num_threads())) for _ in range(3)]
    assert [item for item, _ in steps] == [(0, 1), (1, 1), (2, 1)]
    assert all(after == dev.ordinary_cpu_threads() for _, after in steps)  # no worker thread left at 1
    assert _in_thread(lambda: list(stream)) == []


def test_header_shows_the_ordinary_thread_count_while_a_tiny_model_runs(fresh_device):
    with dev.single_cpu_thread():  # e.g. a session's 2-D GAN training while another page loads
        assert torch.get_num_threads() == 1
        assert dev.describe(torch.device("cpu")).threads == dev.ordinary_cpu_threads()
