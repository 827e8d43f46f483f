"""GPU visibility and the GPU-memory watchdog.

The watchdog asks a ``GpuMemoryReader`` how much memory each process uses on
each of the job's GPUs and flags the job when its processes together exceed the
per-GPU grant. ``NvmlReader`` is the real reader (nvidia-ml-py); tests inject a
reader through the same interface, as they would for any hardware we lack.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Protocol


class GpuMemoryReader(Protocol):
    def used_bytes(self, gpu_uuid: str) -> dict[int, int]:
        """Host pid -> bytes of GPU memory that process holds on ``gpu_uuid``."""
        ...

    def device_index(self, gpu_uuid: str) -> int | None:
        """The N of /dev/nvidiaN for ``gpu_uuid``; None where there is no device node."""
        ...


class NvmlReader:
    """Per-process GPU memory through NVML."""

    def __init__(self) -> None:
        import pynvml

        self._nvml = pynvml
        pynvml.nvmlInit()

    def used_bytes(self, gpu_uuid: str) -> dict[int, int]:
        nvml = self._nvml
        handle = nvml.nvmlDeviceGetHandleByUUID(gpu_uuid)
        used: dict[int, int] = {}
        for query in (nvml.nvmlDeviceGetComputeRunningProcesses, nvml.nvmlDeviceGetGraphicsRunningProcesses):
            for proc in query(handle):
                used[proc.pid] = used.get(proc.pid, 0) + (proc.usedGpuMemory or 0)
        return used

    def device_index(self, gpu_uuid: str) -> int | None:
        return self._nvml.nvmlDeviceGetIndex(self._nvml.nvmlDeviceGetHandleByUUID(gpu_uuid))


def over_grant(reader: GpuMemoryReader, gpu_uuids: Iterable[str], pids: set[int], grant: int) -> str | None:
    """A sentence naming the GPU whose memory the job's processes exceed, or None."""
    for uuid in gpu_uuids:
        used = sum(b for pid, b in reader.used_bytes(uuid).items() if pid in pids)
        if used > grant:
            return f"used {used} bytes of GPU memory on {uuid}, over its grant of {grant}"
    return None


def device_nodes(indexes: Iterable[int]) -> list[str]:
    """The device nodes a job with these GPUs needs: its /dev/nvidiaN and the shared control nodes."""
    shared = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"]
    return [f"/dev/nvidia{i}" for i in indexes] + [p for p in shared if os.path.exists(p)]
