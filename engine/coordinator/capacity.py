"""What this host has: NUMA nodes from /sys, memory from sysfs or psutil, GPUs from NVML.

Tests and simulations inject a topology file through the same interface
(``CapacityReader.read``) that the host reader fills.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

import msgspec
import psutil

from engine.model import GpuDevice, NumaNodeCapacity, decode_input

NODE_SYSFS = Path("/sys/devices/system/node")


class CapacityReader(Protocol):
    def read(self) -> tuple[list[NumaNodeCapacity], list[GpuDevice]]: ...


class Topology(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    numa: list[NumaNodeCapacity]
    gpus: list[GpuDevice] = []


class TopologyFile:
    """An injected topology (JSON with ``numa`` and ``gpus``), for tests and simulations."""

    def __init__(self, path: Path) -> None:
        self.topology = decode_input(path.read_bytes(), Topology)

    def read(self) -> tuple[list[NumaNodeCapacity], list[GpuDevice]]:
        return list(self.topology.numa), list(self.topology.gpus)


class HostCapacity:
    def __init__(self, sysfs: Path = NODE_SYSFS) -> None:
        self.sysfs = sysfs
        self._nvml = _nvml()

    def read(self) -> tuple[list[NumaNodeCapacity], list[GpuDevice]]:
        return self._numa(), self._gpus()

    def _numa(self) -> list[NumaNodeCapacity]:
        nodes = sorted(self.sysfs.glob("node[0-9]*"), key=lambda p: int(p.name[4:])) if self.sysfs.exists() else []
        if len(nodes) <= 1:  # one node: the host's own figures are authoritative (sysfs may miss hot-plugged RAM)
            cpus = parse_cpulist((nodes[0] / "cpulist").read_text()) if nodes else list(range(psutil.cpu_count() or 1))
            memory = psutil.virtual_memory()
            return [_numa(0, cpus, memory.total, memory.available)]
        return [_numa(int(p.name[4:]), parse_cpulist((p / "cpulist").read_text()), *_meminfo(p / "meminfo"))
                for p in nodes]

    def _gpus(self) -> list[GpuDevice]:
        nvml = self._nvml
        if nvml is None:
            return []
        gpus = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            uuid, name = nvml.nvmlDeviceGetUUID(handle), nvml.nvmlDeviceGetName(handle)
            bus = nvml.nvmlDeviceGetPciInfo(handle).busId
            gpus.append(GpuDevice(index=index, uuid=_text(uuid), name=_text(name), total_memory_bytes=memory.total,
                                  free_memory_bytes=memory.free, numa_node=_pci_numa_node(_text(bus))))
        return gpus


def _numa(node_id: int, cpus: list[int], total: int, free: int) -> NumaNodeCapacity:
    return NumaNodeCapacity(id=node_id, cpus=cpus, total_millicores=len(cpus) * 1000,
                            free_millicores=len(cpus) * 1000, total_memory_bytes=total,
                            free_memory_bytes=min(free, total))


def parse_cpulist(text: str) -> list[int]:
    """"0-3,8,10-11" -> [0, 1, 2, 3, 8, 10, 11]."""
    cpus: list[int] = []
    for part in filter(None, text.strip().split(",")):
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return cpus


def _meminfo(path: Path) -> tuple[int, int]:
    fields = dict(re.findall(r"Node \d+ (\w+):\s+(\d+) kB", path.read_text()))
    total = int(fields.get("MemTotal", 0)) * 1024
    free = (int(fields.get("MemFree", 0)) + int(fields.get("FilePages", 0))) * 1024
    return total, free


def _pci_numa_node(bus_id: str) -> int | None:
    path = Path("/sys/bus/pci/devices") / bus_id.lower()[-12:] / "numa_node"
    try:
        node = int(path.read_text())
    except (OSError, ValueError):
        return None
    return node if node >= 0 else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _nvml():
    """pynvml initialised, or None where there is no NVIDIA driver (most CI machines)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml
    except Exception:  # noqa: BLE001 - NVMLError_LibraryNotFound / DriverNotLoaded: no GPUs here
        return None
