"""A Distributed Map's ItemReader and ResultWriter over S3 (or any S3-compatible store).

The core asks for them as two internal resources (`engine._interpreter.map_io`): reading
items (``s3:getObject`` with ``InputType`` JSON, JSONL, CSV or MANIFEST, and
``s3:listObjectsV2``) and writing a Map Run's results (``s3:putObject``: AWS's
``<Prefix>/<mapRunId>/manifest.json`` and ``SUCCEEDED_0.json`` / ``FAILED_0.json`` /
``PENDING_0.json``). The bytes come from an `ObjectStore`: `S3ObjectStore` over boto3 in the
AWS mode (``STEPLINE_AWS_INTEGRATIONS``, ``STEPLINE_AWS_ENDPOINT_URL``), a fake in tests.
Without the AWS mode, the built-ins fail the Map at once, saying what to set.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from engine._errors import ErrorName, StatesError
from engine._interpreter.integration import base_action, describe_resource

if TYPE_CHECKING:
    from engine._integrations.services import Services
    from engine._resources import HandlerRegistry, Integration, TaskCall

Json = Any
SERVICE = "stepline-map"
_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
_STATUSES = ("FAILED", "PENDING", "SUCCEEDED")  # the manifest's ResultFiles, AWS's order


class ObjectStore(Protocol):
    """The S3 calls the reader and writer make (one seam: boto3, or a fake in tests)."""

    def get(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        """The object's bytes; raises `StatesError` (``S3.NoSuchKeyException``...)."""
        ...

    def list(self, parameters: dict[str, Json]) -> Iterator[dict[str, Json]]:
        """ListObjectsV2's ``Contents`` entries over every page, as boto3 returns them."""
        ...

    def put(self, bucket: str, key: str, body: bytes) -> None:
        """Write the object; raises `StatesError` on failure."""
        ...


class S3ObjectStore:
    """`ObjectStore` over a boto3 S3 client; S3 errors become ``S3.<Name>Exception``."""

    def __init__(self, client: Any) -> None:
        """Use ``client`` (boto3's ``s3``) for every call."""
        self.client = client

    def get(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        """The object's bytes."""
        from engine._integrations.aws import call_service

        parameters = {"Bucket": bucket, "Key": key}
        if version_id:
            parameters["VersionId"] = version_id
        response = call_service(self.client.get_object, parameters, "S3")
        return bytes(response["Body"].read())

    def list(self, parameters: dict[str, Json]) -> Iterator[dict[str, Json]]:
        """Every page's ``Contents`` of ListObjectsV2."""
        from engine._integrations.aws import call_service

        request = dict(parameters)
        while True:
            page = call_service(self.client.list_objects_v2, request, "S3")
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            request["ContinuationToken"] = page["NextContinuationToken"]

    def put(self, bucket: str, key: str, body: bytes) -> None:
        """Write ``body`` at ``bucket``/``key``."""
        from engine._integrations.aws import call_service

        call_service(self.client.put_object, {"Bucket": bucket, "Key": key, "Body": body}, "S3")


def register_s3_map_integrations(
    registry: HandlerRegistry, store: Callable[[], ObjectStore]
) -> None:
    """Serve the ItemReader and ResultWriter through the store ``store()`` makes."""

    def reader(call: TaskCall, services: Services | None) -> Json:
        return read_items(store(), call.parameters)

    def writer(call: TaskCall, services: Services | None) -> Json:
        return write_results(store(), call.parameters)

    registry.register_integration(SERVICE, "readItems", reader)
    registry.register_integration(SERVICE, "writeResults", writer)


def _unserved(error: str, what: str) -> Integration:
    def integration(call: TaskCall, services: Services | None) -> Json:
        raise StatesError(
            error,
            f"{what} needs S3: set STEPLINE_AWS_INTEGRATIONS=true on the workers (and "
            "STEPLINE_AWS_ENDPOINT_URL for an S3-compatible store), or register "
            "stepline's AWS integrations on the client's registry",
        )

    return integration


INTEGRATIONS = {
    (SERVICE, "readItems"): _unserved(ErrorName.ITEM_READER_FAILED, "ItemReader"),
    (SERVICE, "writeResults"): _unserved(ErrorName.RESULT_WRITER_FAILED, "ResultWriter"),
}
"""Without the AWS mode, a Map with an ItemReader or a ResultWriter fails loudly."""


# --- ItemReader --------------------------------------------------------------------------


def read_items(store: ObjectStore, request: Json) -> list[Json]:
    """The items an ItemReader request names, at most its ``MaxItems``.

    Raises:
        StatesError: ``States.ItemReaderFailed`` for content that is not what the
            ReaderConfig says, or the S3 error of the call.
    """
    resource = str(request.get("Resource", ""))
    parameters = request.get("Parameters") or {}
    config = request.get("ReaderConfig") or {}
    max_items = config.get("MaxItems") or None
    action = base_action(describe_resource(resource))
    if not isinstance(parameters, dict) or not isinstance(parameters.get("Bucket"), str):
        raise _reader_failed(
            f"the ItemReader's Parameters need a 'Bucket' string, got {parameters}"
        )
    if action == "listObjectsV2":
        return _listed_objects(store, parameters, max_items)
    if action != "getObject":
        raise _reader_failed(
            f"expected an ItemReader Resource arn:aws:states:::s3:getObject or "
            f"arn:aws:states:::s3:listObjectsV2, got {resource!r}"
        )
    if not isinstance(parameters.get("Key"), str):
        raise _reader_failed(f"s3:getObject needs a 'Key' string, got {parameters.get('Key')!r}")
    body = store.get(parameters["Bucket"], parameters["Key"], parameters.get("VersionId"))
    items = parse_items(body, config, store)
    return items[:max_items] if max_items else items


def parse_items(body: bytes, config: dict[str, Json], store: ObjectStore) -> list[Json]:
    """The items of an object's bytes, as ``ReaderConfig.InputType`` says to read them."""
    input_type = config.get("InputType")
    if input_type == "JSON":
        return _json_array(_text(body))
    if input_type == "JSONL":
        return [_json_line(line, n) for n, line in enumerate(_text(body).splitlines(), 1) if line]
    if input_type == "CSV":
        return csv_items(_text(body), config)
    if input_type == "MANIFEST":
        return _inventory_items(store, _text(body))
    if input_type is None:
        raise _reader_failed("s3:getObject needs ReaderConfig.InputType (JSON, JSONL, CSV...)")
    raise _reader_failed(f"InputType {input_type} is not supported by stepline (yet)")


def csv_items(text: str, config: dict[str, Json]) -> list[Json]:
    """CSV rows as objects of strings, keyed by the first row or by ``CSVHeaders``."""
    delimiter = _DELIMITERS[str(config.get("CSVDelimiter", "COMMA"))]
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
        headers = config.get("CSVHeaders")
        if not isinstance(headers, list) or not headers:
            raise _reader_failed("CSVHeaderLocation GIVEN needs a non-empty CSVHeaders array")
    elif rows:
        headers, rows = rows[0], rows[1:]
    else:
        return []
    items = []
    for number, row in enumerate(rows, 1):
        if len(row) != len(headers):
            raise _reader_failed(
                f"CSV row {number} has {len(row)} fields, expected {len(headers)} "
                f"(one per header: {', '.join(map(str, headers))})"
            )
        items.append(dict(zip(map(str, headers), row, strict=True)))
    return items


def _listed_objects(
    store: ObjectStore, parameters: dict[str, Json], max_items: int | None
) -> list[Json]:
    """ListObjectsV2's objects as AWS hands them to a Map: Etag, Key, LastModified...."""
    items: list[Json] = []
    for entry in store.list(parameters):
        items.append(
            {
                "Etag": entry.get("ETag"),
                "Key": entry.get("Key"),
                "LastModified": _date_text(entry.get("LastModified")),
                "Size": entry.get("Size"),
                "StorageClass": entry.get("StorageClass"),
            }
        )
        if max_items and len(items) >= max_items:
            break
    return items


def _inventory_items(store: ObjectStore, text: str) -> list[Json]:
    """An S3 Inventory ``manifest.json``: the rows of its CSV data files, keyed by its schema."""
    manifest = _json_value(text, "the S3 Inventory manifest")
    if not isinstance(manifest, dict) or manifest.get("fileFormat") != "CSV":
        found = manifest.get("fileFormat") if isinstance(manifest, dict) else manifest
        raise _reader_failed(f"expected an S3 Inventory manifest of fileFormat CSV, got {found!r}")
    bucket = str(manifest.get("destinationBucket", "")).removeprefix("arn:aws:s3:::")
    headers = [name.strip() for name in str(manifest.get("fileSchema", "")).split(",")]
    config = {"CSVHeaderLocation": "GIVEN", "CSVHeaders": headers}
    items: list[Json] = []
    for file in manifest.get("files") or []:
        data = store.get(bucket, str(file.get("key")))
        if data[:2] == b"\x1f\x8b":  # inventory data files are gzipped
            data = gzip.decompress(data)
        items.extend(csv_items(_text(data), config))
    return items


def _json_array(text: str) -> list[Json]:
    value = _json_value(text, "the JSON file")
    if not isinstance(value, list):
        raise _reader_failed(
            f"the JSON file must hold an array of items, but its top level is "
            f"{type(value).__name__}"
        )
    return value


def _json_line(line: str, number: int) -> Json:
    return _json_value(line, f"JSONL line {number}")


def _json_value(text: str, what: str) -> Json:
    try:
        return json.loads(text)
    except ValueError as error:
        raise _reader_failed(f"{what} is not valid JSON: {error}") from None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")  # a BOM is common in exported CSV
    except UnicodeDecodeError as error:
        raise _reader_failed(f"the object is not UTF-8 text: {error}") from None


def _date_text(value: Json) -> Json:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _reader_failed(cause: str) -> StatesError:
    return StatesError(ErrorName.ITEM_READER_FAILED, cause)


# --- ResultWriter ------------------------------------------------------------------------


def write_results(store: ObjectStore, request: Json) -> Json:
    """Write a Map Run's result files and manifest; returns ``{"ResultWriterDetails"}``."""
    resource = str(request.get("Resource", ""))
    if base_action(describe_resource(resource)) != "putObject":
        raise _writer_failed(
            f"expected a ResultWriter Resource arn:aws:states:::s3:putObject, got {resource!r}"
        )
    parameters = request.get("Parameters") or {}
    bucket = parameters.get("Bucket") if isinstance(parameters, dict) else None
    if not isinstance(bucket, str) or not bucket:
        raise _writer_failed(f"the ResultWriter's Parameters need a 'Bucket', got {parameters}")
    map_run_arn = str(request["MapRunArn"])
    prefix = str(parameters.get("Prefix") or "").strip("/")
    folder = "/".join(part for part in (prefix, map_run_arn.rsplit(":", 1)[-1]) if part)
    files: dict[str, list[Json]] = {status: [] for status in _STATUSES}
    for status in _STATUSES:
        entries = [r["Entry"] for r in request.get("Results", []) if r["Status"] == status]
        if entries:
            key = f"{folder}/{status}_0.json"
            body = _dumps(entries, str(request.get("OutputType", "JSON"))).encode()
            store.put(bucket, key, body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    manifest_key = f"{folder}/manifest.json"
    store.put(bucket, manifest_key, json.dumps(manifest, separators=(",", ":")).encode())
    return {"ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def _dumps(entries: list[Json], output_type: str) -> str:
    """A result file's text: a JSON array, or JSON Lines."""
    if output_type == "JSONL":
        return "".join(json.dumps(entry, separators=(",", ":")) + "\n" for entry in entries)
    return json.dumps(entries, separators=(",", ":"))


def _writer_failed(cause: str) -> StatesError:
    return StatesError(ErrorName.RESULT_WRITER_FAILED, cause)
