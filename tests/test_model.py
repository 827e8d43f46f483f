"""The job model: good inputs round-trip, hostile ones get a clear typed error."""
from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model import (
    AdmissionState,
    Assignment,
    InvalidInput,
    JobEvent,
    JobFinished,
    JobSpec,
    JobState,
    NodeStatus,
    NumaNodeCapacity,
    PayloadTooLarge,
    Resources,
    decode_input,
    decode_wire,
    encode_input,
    encode_wire,
    job_id_time_ms,
    new_job_id,
)
from engine.model.limits import MAX_JOB_PAYLOAD_BYTES, MiB

JOB = {"id": "01JD0000000000000000000000", "tenant": "team-a", "argv": ["/bin/true"]}


def job_json(**overrides) -> bytes:
    return msgspec.json.encode({**JOB, **overrides})


def test_minimal_job_gets_defaults():
    spec = decode_input(job_json(), JobSpec)
    assert spec.resources == Resources()
    assert spec.max_attempts == 3 and spec.pool == "default"


def test_job_round_trips_on_both_doors():
    spec = decode_input(job_json(resources={"gpus": 2, "gpu_memory_bytes": 8 << 30, "numa": "strict"}), JobSpec)
    assert decode_wire(encode_wire(spec), JobSpec) == spec
    assert decode_input(encode_input(spec), JobSpec) == spec


def test_toml_job_file():
    text = """
id = "01JD0000000000000000000000"
tenant = "team-a"
argv = ["python", "-c", "print(1)"]
[resources]
millicores = 500
memory_bytes = 268435456
"""
    spec = decode_input(text, JobSpec, fmt="toml")
    assert spec.resources.millicores == 500


@pytest.mark.parametrize(
    ("payload", "message", "path"),
    [
        (job_json(resources={"memroy_bytes": 1}), "unknown field `memroy_bytes`", "$.resources"),
        (job_json(colour="red"), "unknown field `colour`", "$"),
        (job_json(resources={"millicores": -5}), ">= 1", "$.resources.millicores"),
        (job_json(resources={"memory_bytes": 1 << 60}), "<=", "$.resources.memory_bytes"),
        (job_json(resources={"gpus": "two"}), "Expected `int`, got `str`", "$.resources.gpus"),
        (job_json(resources={"gpu_memory_bytes": 1 << 30}), "need gpus >= 1", "$.resources"),
        (job_json(argv=[]), "length >= 1", "$.argv"),
        (job_json(argv=[""]), "argv[0]", "$"),
        (job_json(id="not-an-id"), "matching regex", "$.id"),
        (job_json(tenant="Team A!"), "matching regex", "$.tenant"),
        (job_json(files={"../escape": "x"}), "inside scratch", "$"),
        (job_json(files={"/etc/passwd": "x"}), "inside scratch", "$"),
        (job_json(env={"BAD-NAME": "x"}), "matching regex", "$.env (a key)"),
        (job_json(timeout_s=0), "> 0", "$.timeout_s"),
        (job_json(backoff={"initial_s": 10, "max_s": 1}), "max_s", "$.backoff"),
        (job_json(max_attempts=10**9), "<=", "$.max_attempts"),
        (b'{"id": ', "malformed input", None),
        (b"\xff\xfe garbage", "malformed input", None),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply", None),
        (b"[1, 2, 3]", "Expected `object`, got `array`", "$"),
    ],
)
def test_hostile_job_input_is_rejected_with_a_path(payload, message, path):
    with pytest.raises(InvalidInput) as info:
        decode_input(payload, JobSpec)
    assert message in str(info.value)
    assert info.value.path == path


def test_oversized_payload_is_refused_before_parsing():
    big = job_json(env={"A": "x" * MAX_JOB_PAYLOAD_BYTES})
    with pytest.raises(PayloadTooLarge) as info:
        decode_input(big, JobSpec)
    assert info.value.size > info.value.limit


def test_wire_tolerates_unknown_fields_from_newer_peers():
    newer = msgspec.msgpack.encode({**JOB, "future_field": {"x": 1}, "resources": {"future_accel": 3}})
    spec = decode_wire(newer, JobSpec)
    assert spec.argv == ["/bin/true"]


def test_wire_still_validates_types_and_bounds():
    with pytest.raises(InvalidInput, match=r"\$.resources.pids"):
        decode_wire(msgspec.msgpack.encode({**JOB, "resources": {"pids": -1}}), JobSpec)
    with pytest.raises(InvalidInput, match="malformed"):
        decode_wire(b"\xc1\xc1\xc1", JobSpec)
    with pytest.raises(InvalidInput, match="Expected `object`, got `array`"):
        decode_wire(b"\x91" * 500_000 + b"\x90", JobSpec)


def test_job_events_are_a_tagged_union():
    event = JobFinished(
        job_id=JOB["id"], attempt=2, epoch=7, at_ms=1, node_id="n1", state=JobState.TIMED_OUT, exit_code=None
    )
    decoded = decode_wire(encode_wire(event), JobEvent)
    assert decoded == event
    match decoded:
        case JobFinished(state=JobState.TIMED_OUT, attempt=2, epoch=7):
            pass
        case _:
            pytest.fail("dispatch by tag failed")
    with pytest.raises(ValueError, match="cannot finish as running"):
        JobFinished(job_id=JOB["id"], attempt=1, epoch=1, at_ms=1, node_id="n1", state=JobState.RUNNING)
    with pytest.raises(InvalidInput, match="Invalid value 'exploded'"):
        decode_wire(msgspec.msgpack.encode({"kind": "exploded", "job_id": JOB["id"]}), JobEvent)


def test_node_status_rejects_impossible_capacity():
    bad = {"node_id": "n1", "numa": [{"id": 0, "cpus": [0], "total_millicores": 1000, "free_millicores": 2000,
                                      "total_memory_bytes": MiB, "free_memory_bytes": 0}]}
    with pytest.raises(InvalidInput, match="free millicores exceed total"):
        decode_wire(msgspec.msgpack.encode(bad), NodeStatus)
    ok = NodeStatus(node_id="n1", numa=[NumaNodeCapacity(id=0, cpus=[0, 1], total_millicores=2000,
                                                         free_millicores=1500, total_memory_bytes=MiB,
                                                         free_memory_bytes=MiB)])
    assert decode_wire(encode_wire(ok), NodeStatus).free_millicores == 1500


def test_assignment_and_admission_round_trip():
    spec = decode_input(job_json(), JobSpec)
    assignment = Assignment(job=spec, attempt=1, epoch=3, node_id="node-1")
    assert decode_wire(encode_wire(assignment), Assignment) == assignment
    state = AdmissionState(leader="node-1", epoch=3, at_ms=5, queue_depth=10, high_watermark=100)
    assert decode_wire(encode_wire(state), AdmissionState) == state


def test_job_ids_sort_by_time_and_decode_their_time():
    ids = [new_job_id(now_ms=t) for t in (1_000, 2_000, 1_700_000_000_000)]
    assert ids == sorted(ids)
    assert job_id_time_ms(ids[2]) == 1_700_000_000_000
    assert decode_input(job_json(id=ids[0]), JobSpec).id == ids[0]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_escape_as_other_errors(blob):
    for decode in (lambda b: decode_input(b, JobSpec), lambda b: decode_wire(b, JobSpec)):
        try:
            decode(blob)
        except InvalidInput:
            pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["millicores", "memory_bytes", "pids", "gpus", "numa", "x"]),
                       st.one_of(st.integers(), st.text(max_size=5), st.none(), st.floats())))
def test_arbitrary_resources_are_valid_or_rejected(resources):
    try:
        spec = decode_input(job_json(resources=resources), JobSpec)
    except InvalidInput:
        return
    assert spec.resources.millicores >= 1 and spec.resources.memory_bytes >= 4 * MiB
