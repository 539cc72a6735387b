"""Distributed Map ItemReader / ResultWriter through the local executor, on a fake S3 store."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from engine._errors import StatesError
from engine._integrations.s3_map import register_s3_map_integrations
from engine._interpreter.snapshot import ExecutionStatus
from engine._resources import HandlerContext, HandlerRegistry
from tests.unit.interpreter.support import lambda_arn, registry, run, types

Json = Any
GET = "arn:aws:states:::s3:getObject"


class MemoryStore:
    """The `ObjectStore` seam in memory: objects by (bucket, key), S3's NoSuchKey when absent."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def get(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        if (bucket, key) not in self.objects:
            raise StatesError("S3.NoSuchKeyException", "The specified key does not exist.")
        return self.objects[(bucket, key)]

    def list(self, parameters: dict[str, Json]) -> Iterator[dict[str, Json]]:
        prefix = parameters.get("Prefix", "")
        for (bucket, key), body in sorted(self.objects.items()):
            if bucket == parameters["Bucket"] and key.startswith(prefix):
                yield {
                    "Key": key,
                    "ETag": '"etag"',
                    "LastModified": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                    "Size": len(body),
                    "StorageClass": "STANDARD",
                }

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.objects[(bucket, key)] = body

    def json(self, bucket: str, key: str) -> Json:
        return json.loads(self.objects[(bucket, key)])


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def _with_s3(store: MemoryStore, base: HandlerRegistry | None = None) -> HandlerRegistry:
    handlers = base or HandlerRegistry()
    register_s3_map_integrations(handlers, lambda: store)
    return handlers


def _map(processor_state: Json | None = None, **fields: Json) -> dict[str, Json]:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "I",
        "States": {"I": {**(processor_state or {"Type": "Pass"}), "End": True}},
    }
    return {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}},
    }


def _reader(config: Json, **parameters: Json) -> Json:
    return {"Resource": GET, "ReaderConfig": config, "Parameters": {"Bucket": "b", **parameters}}


# --- ItemReader --------------------------------------------------------------------------


def test_given_a_csv_with_a_header_row_when_read_then_each_row_is_an_object_of_strings(
    store: MemoryStore,
) -> None:
    # Given a CSV in S3 whose first row names the columns, and MaxItems 2
    store.put("b", "ratings.csv", b"id,rating\n1,5\n2,3\n3,4\n")
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 2}
    # When a Distributed Map reads it
    result = run(_map(ItemReader=_reader(config, Key="ratings.csv")), {}, handlers=_with_s3(store))
    # Then each child got one row as strings, and only the first two rows were mapped
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert result.execution.output == [{"id": "1", "rating": "5"}, {"id": "2", "rating": "3"}]


def test_given_csv_headers_when_read_then_every_row_is_data(store: MemoryStore) -> None:
    # Given a semicolon CSV without a header row, and the headers in the definition
    store.put("b", "rows.csv", b"a;1\nb;2\n")
    config = {
        "InputType": "CSV",
        "CSVHeaderLocation": "GIVEN",
        "CSVHeaders": ["name", "n"],
        "CSVDelimiter": "SEMICOLON",
    }
    # When read
    result = run(_map(ItemReader=_reader(config, Key="rows.csv")), {}, handlers=_with_s3(store))
    # Then the first row is an item too
    assert result.execution.output == [{"name": "a", "n": "1"}, {"name": "b", "n": "2"}]


def test_given_a_json_array_and_parameters_from_the_input_when_read_then_its_elements_map(
    store: MemoryStore,
) -> None:
    # Given a JSON array whose key comes from the state input, and MaxItemsPath
    store.put("b", "in/items.json", b'[{"x": 1}, {"x": 2}, {"x": 3}]')
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "JSON", "MaxItemsPath": "$.limit"},
        "Parameters": {"Bucket": "b", "Key.$": "$.key"},
    }
    # When read
    payload = {"key": "in/items.json", "limit": 2}
    result = run(_map(ItemReader=reader), payload, handlers=_with_s3(store))
    # Then the Parameters were resolved from the input, and MaxItemsPath capped the items
    assert result.execution.output == [{"x": 1}, {"x": 2}]


def test_given_jsonl_and_jsonata_arguments_when_read_then_each_line_is_an_item(
    store: MemoryStore,
) -> None:
    # Given JSON Lines, read by a JSONata Map whose Arguments compute the key
    store.put("b", "lines.jsonl", b'{"n": 1}\n\n{"n": 2}\n')
    definition = _map(
        ItemReader={
            "Resource": GET,
            "ReaderConfig": {"InputType": "JSONL"},
            "Arguments": {"Bucket": "b", "Key": "{% $states.input.name & '.jsonl' %}"},
        }
    )
    definition["QueryLanguage"] = "JSONata"
    # When read
    result = run(definition, {"name": "lines"}, handlers=_with_s3(store))
    # Then each non-empty line is one item
    assert result.execution.output == [{"n": 1}, {"n": 2}]


def test_given_list_objects_v2_when_read_then_items_are_the_objects_as_aws_shapes_them(
    store: MemoryStore,
) -> None:
    # Given two objects under a prefix and one outside it
    store.put("b", "images/a.jpg", b"aaa")
    store.put("b", "images/b.jpg", b"bb")
    store.put("b", "other.txt", b"x")
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": "b", "Prefix": "images/"},
    }
    # When a Map lists them
    result = run(_map(ItemReader=reader), {}, handlers=_with_s3(store))
    # Then each item is the object's Etag, Key, LastModified (text), Size and StorageClass
    assert result.execution.output == [
        {
            "Etag": '"etag"',
            "Key": "images/a.jpg",
            "LastModified": "2026-01-02T03:04:05+00:00",
            "Size": 3,
            "StorageClass": "STANDARD",
        },
        {
            "Etag": '"etag"',
            "Key": "images/b.jpg",
            "LastModified": "2026-01-02T03:04:05+00:00",
            "Size": 2,
            "StorageClass": "STANDARD",
        },
    ]


def test_given_an_s3_inventory_manifest_when_read_then_its_gzipped_csv_rows_are_the_items(
    store: MemoryStore,
) -> None:
    # Given an S3 Inventory manifest naming one gzipped CSV data file
    manifest = {
        "sourceBucket": "src",
        "destinationBucket": "arn:aws:s3:::inv",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "data/1.csv.gz", "size": 1}],
    }
    store.put("inv", "manifest.json", json.dumps(manifest).encode())
    store.put("inv", "data/1.csv.gz", gzip.compress(b'"src","a.txt","3"\n"src","b.txt","4"\n'))
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "MANIFEST"},
        "Parameters": {"Bucket": "inv", "Key": "manifest.json"},
    }
    # When read
    result = run(_map(ItemReader=reader), {}, handlers=_with_s3(store))
    # Then every row is an object keyed by the manifest's fileSchema
    assert result.execution.output == [
        {"Bucket": "src", "Key": "a.txt", "Size": "3"},
        {"Bucket": "src", "Key": "b.txt", "Size": "4"},
    ]


def test_given_an_item_selector_and_batcher_when_items_are_read_then_they_apply_to_them(
    store: MemoryStore,
) -> None:
    # Given CSV rows, an ItemSelector keeping each row's id with its index, batches of two
    store.put("b", "rows.csv", b"id\na\nb\nc\n")
    definition = _map(
        ItemReader=_reader({"InputType": "CSV"}, Key="rows.csv"),
        ItemSelector={"id.$": "$$.Map.Item.Value.id", "at.$": "$$.Map.Item.Index"},
        ItemBatcher={"MaxItemsPerBatch": 2},
    )
    # When the Map runs
    result = run(definition, {}, handlers=_with_s3(store))
    # Then the children got the selected items, batched
    assert result.execution.output == [
        {"Items": [{"id": "a", "at": 0}, {"id": "b", "at": 1}]},
        {"Items": [{"id": "c", "at": 2}]},
    ]


@pytest.mark.parametrize(
    ("key", "body", "config", "cause"),
    [
        ("obj.json", b'{"not": "an array"}', {"InputType": "JSON"}, "top level is dict"),
        ("bad.csv", b"a,b\n1\n", {"InputType": "CSV"}, "CSV row 1 has 1 fields, expected 2"),
        ("p.parquet", b"PAR1", {"InputType": "PARQUET"}, "PARQUET is not supported"),
        ("missing.json", None, {"InputType": "JSON"}, "S3.NoSuchKeyException: The specified"),
    ],
)
def test_given_unreadable_items_when_read_then_the_map_fails_with_item_reader_failed(
    store: MemoryStore, key: str, body: bytes | None, config: Json, cause: str
) -> None:
    # Given an object that is not what the ReaderConfig says (or no object at all)
    if body is not None:
        store.put("b", key, body)
    calls: list[Json] = []

    def record(event: Json, context: HandlerContext) -> Json:
        calls.append(event)
        return event

    task = {"Type": "Task", "Resource": lambda_arn("f")}
    handlers = _with_s3(store, registry(f=record))
    # When a Map reads it
    result = run(_map(task, ItemReader=_reader(config, Key=key)), {}, handlers=handlers)
    # Then it fails with States.ItemReaderFailed and AWS-like cause, before any child ran
    assert result.execution.status is ExecutionStatus.FAILED
    assert result.execution.error == "States.ItemReaderFailed"
    assert cause in result.execution.cause
    assert calls == []


def test_given_a_retrier_when_the_reader_fails_then_the_items_are_read_again(
    store: MemoryStore,
) -> None:
    # Given a reader that fails once (the object appears after the first attempt)
    attempts: list[int] = []

    class LateStore(MemoryStore):
        def get(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
            attempts.append(1)
            if len(attempts) == 1:
                raise StatesError("S3.NoSuchKeyException", "not yet")
            return b"[7]"

    retry = [{"ErrorEquals": ["States.ItemReaderFailed"], "IntervalSeconds": 1}]
    definition = _map(ItemReader=_reader({"InputType": "JSON"}, Key="k"), Retry=retry)
    # When it runs
    result = run(definition, {}, handlers=_with_s3(LateStore()))
    # Then the Map retried the read and mapped the items
    assert result.execution.output == [7]
    assert len(attempts) == 2


# --- ResultWriter ------------------------------------------------------------------------


def _fails_on_two(event: Json, context: HandlerContext) -> Json:
    if event == 2:
        raise ValueError("two")
    return {"doubled": event * 2}


def test_given_a_result_writer_when_the_map_succeeds_then_aws_files_and_output_are_written(
    store: MemoryStore,
) -> None:
    # Given a Map tolerating one failure, writing its results under a prefix
    task = {"Type": "Task", "Resource": lambda_arn("f")}
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out"}}
    writer["Parameters"]["Prefix.$"] = "$.prefix"
    definition = _map(task, ResultWriter=writer, ToleratedFailureCount=1, ItemsPath="$.items")
    handlers = _with_s3(store, registry(f=_fails_on_two))
    # When it maps [1, 2, 3]
    result = run(definition, {"items": [1, 2, 3], "prefix": "runs/"}, handlers=handlers)
    # Then the output points at the manifest, as AWS's ResultWriterDetails
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    output = result.execution.output
    run_id = output["MapRunArn"].rsplit(":", 1)[1]
    manifest_key = f"runs/{run_id}/manifest.json"
    assert output["ResultWriterDetails"] == {"Bucket": "out", "Key": manifest_key}
    # And the manifest lists one SUCCEEDED and one FAILED file (no PENDING)
    manifest = store.json("out", manifest_key)
    assert manifest["DestinationBucket"] == "out"
    assert manifest["MapRunArn"] == output["MapRunArn"]
    files = manifest["ResultFiles"]
    assert files["PENDING"] == []
    assert [f["Key"] for f in files["SUCCEEDED"]] == [f"runs/{run_id}/SUCCEEDED_0.json"]
    assert [f["Key"] for f in files["FAILED"]] == [f"runs/{run_id}/FAILED_0.json"]
    # And each entry is the child's metadata with its input and output as JSON text
    succeeded = store.json("out", f"runs/{run_id}/SUCCEEDED_0.json")
    assert [(e["Input"], e["Output"], e["Status"]) for e in succeeded] == [
        ("1", '{"doubled":2}', "SUCCEEDED"),
        ("3", '{"doubled":6}', "SUCCEEDED"),
    ]
    assert ":execution:m/M:" in succeeded[0]["ExecutionArn"]
    assert succeeded[0]["StateMachineArn"].endswith(":stateMachine:m/M")
    failed = store.json("out", f"runs/{run_id}/FAILED_0.json")
    assert (failed[0]["Input"], failed[0]["Error"], failed[0]["Status"]) == (
        "2",
        "ValueError",
        "FAILED",
    )
    assert files["SUCCEEDED"][0]["Size"] == len(
        store.objects[("out", files["SUCCEEDED"][0]["Key"])]
    )


def test_given_compact_jsonl_when_written_then_the_file_holds_one_output_a_line(
    store: MemoryStore,
) -> None:
    # Given WriterConfig COMPACT / JSONL and no prefix
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "out"},
        "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"},
    }
    # When the Map runs
    result = run(_map(ResultWriter=writer), [{"a": 1}, {"a": 2}], handlers=_with_s3(store))
    # Then the results file is JSON Lines of the outputs, under <mapRunId>/
    run_id = result.execution.output["MapRunArn"].rsplit(":", 1)[1]
    body = store.objects[("out", f"{run_id}/SUCCEEDED_0.json")].decode()
    assert body == '{"a":1}\n{"a":2}\n'


@pytest.mark.parametrize(
    ("transformation", "expected"),
    [("COMPACT", [[1, 2], [3]]), ("FLATTEN", [1, 2, 3])],
)
def test_given_only_a_writer_config_when_the_map_ends_then_its_output_is_transformed(
    transformation: str, expected: Json
) -> None:
    # Given a ResultWriter with only a WriterConfig (no S3)
    writer = {"WriterConfig": {"Transformation": transformation, "OutputType": "JSON"}}
    # When children return arrays
    result = run(_map(ResultWriter=writer), [[1, 2], [3]])
    # Then the state output is transformed, nothing is written
    assert result.execution.output == expected


def test_given_writer_config_none_when_the_map_ends_then_each_result_is_child_metadata() -> None:
    # Given Transformation NONE without a Resource
    writer = {"WriterConfig": {"Transformation": "NONE", "OutputType": "JSON"}}
    # When it maps two items
    result = run(_map(ResultWriter=writer), ["a", "b"])
    # Then the output is each child's record, as AWS's NONE form
    output = result.execution.output
    assert [(e["Input"], e["Output"], e["Status"]) for e in output] == [
        ('"a"', '"a"', "SUCCEEDED"),
        ('"b"', '"b"', "SUCCEEDED"),
    ]


def test_given_a_bucket_that_cannot_be_written_when_the_map_ends_then_result_writer_failed(
    store: MemoryStore,
) -> None:
    # Given a store refusing writes
    class ReadOnly(MemoryStore):
        def put(self, bucket: str, key: str, body: bytes) -> None:
            raise StatesError("S3.NoSuchBucketException", "The specified bucket does not exist")

    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "nope"}}
    # When the Map ends
    result = run(_map(ResultWriter=writer), [1], handlers=_with_s3(ReadOnly()))
    # Then it fails with States.ResultWriterFailed naming the S3 error, and its Map Run failed
    assert result.execution.error == "States.ResultWriterFailed"
    assert result.execution.cause.startswith("S3.NoSuchBucketException: The specified bucket")
    assert types(result.history)[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


# --- What would otherwise be ignored fails loudly ----------------------------------------


def test_given_an_inline_map_with_a_result_writer_when_it_runs_then_it_fails_before_children(
    store: MemoryStore,
) -> None:
    # Given an inline Map (no ProcessorConfig) with a ResultWriter, valid by the validator
    definition = _map(ResultWriter={"Resource": "arn:aws:states:::s3:putObject"})
    del definition["States"]["M"]["ItemProcessor"]["ProcessorConfig"]
    # When it runs
    result = run(definition, [1], handlers=_with_s3(store))
    # Then it fails with States.ResultWriterFailed saying a Distributed Map is needed
    assert result.execution.error == "States.ResultWriterFailed"
    assert "needs a Distributed Map" in result.execution.cause
    assert store.objects == {}


def test_given_items_path_with_an_item_reader_when_it_runs_then_it_fails_loudly(
    store: MemoryStore,
) -> None:
    # Given an ItemReader and an ItemsPath (which would select nothing stepline reads)
    store.put("b", "k", b"[1]")
    definition = _map(ItemReader=_reader({"InputType": "JSON"}, Key="k"), ItemsPath="$.items")
    # When it runs
    result = run(definition, {"items": [1]}, handlers=_with_s3(store))
    # Then it fails naming the combination
    assert result.execution.error == "States.ItemReaderFailed"
    assert "ItemsPath/Items cannot select" in result.execution.cause
