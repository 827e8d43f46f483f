"""cgroup backends behind one interface: v1 (separate hierarchies) and v2 (unified), chosen by detection."""
from sandbox.cgroups.base import CgroupBackend, CgroupUsage, JobCgroup
from sandbox.cgroups.detect import detect_backend

__all__ = ["CgroupBackend", "CgroupUsage", "JobCgroup", "detect_backend"]
