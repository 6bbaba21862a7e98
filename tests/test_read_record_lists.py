"""JSON documents that are lists of records (CloudTrail's {"Records": [...]}, Azure's arrays and {"value": [...]})."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import timeline as tl
from timeline.sources import read_file

FORMATS = Path(tl.__file__).resolve().parent / "formats"


def _records(spec: str) -> list[dict]:
    with (FORMATS / f"{spec}.toml").open("rb") as fh:
        return [json.loads(s["text"]) for s in tomllib.load(fh)["samples"]]


CLOUDTRAIL = _records("aws_cloudtrail_json")
AZURE = _records("azure_activity_json")


def test_cloudtrail_file_on_one_line_is_one_event_per_record(tmp_path: Path) -> None:
    # CloudTrail delivers each S3 object as one minified document.
    path = tmp_path / "123456789012_CloudTrail_us-east-1_20240812T2115Z_a1b2c3.json"
    path.write_text(json.dumps({"Records": CLOUDTRAIL}, separators=(",", ":")) + "\n")
    df, account = read_file(path)
    assert account.format == "aws_cloudtrail_json" and not account.generic
    assert (account.lines, account.events, account.rejected, account.records) == (3, 3, 0, 3)
    assert account.balanced
    assert [t.isoformat() for t in df["ts"]] == ["2024-08-12T21:14:37+00:00", "2024-08-12T21:15:02+00:00", "2024-08-12T21:16:40+00:00"]
    assert df["level"].to_list() == ["info", "error", "error"]
    assert df["actor"].to_list() == ["arn:aws:sts::123456789012:assumed-role/DBAdmin/alice", "arn:aws:iam::123456789012:user/bob", "carol"]
    assert df["message"][1] == "TerminateInstances\nerrorCode:  Client.UnauthorizedOperation\nerrorMessage:  You are not authorized to perform this operation."
    assert df["service"].to_list() == ["rds.amazonaws.com", "ec2.amazonaws.com", "signin.amazonaws.com"]
    # The rest of the record is kept.
    attrs = json.loads(df["attrs"][0])
    assert attrs["requestParameters"]["dBInstanceIdentifier"] == "shop-db" and attrs["awsRegion"] == "us-east-1"
    assert any("under 'Records'" in w for w in account.warnings)


def test_pretty_printed_cloudtrail_events_carry_the_line_they_start_on(tmp_path: Path) -> None:
    path = tmp_path / "trail.json"
    text = json.dumps({"Records": CLOUDTRAIL}, indent=2)
    path.write_text(text + "\n")
    df, account = read_file(path)
    assert account.format == "aws_cloudtrail_json" and account.events == 3 and account.balanced
    lines = text.splitlines()
    assert [lines[n - 1].strip() for n in df["line"]] == ["{"] * 3
    assert [lines[n]  .strip() for n in df["line"]] == ['"eventVersion": "1.08",'] * 3


def test_azure_activity_log_as_array_and_as_value_page(tmp_path: Path) -> None:
    array = tmp_path / "activity.json"
    array.write_text(json.dumps([AZURE[0], AZURE[0] | {"level": "Informational", "status": {"value": "Started", "localizedValue": "Started"},
                                                       "eventTimestamp": "2024-08-12T21:14:35.0012345Z"}], indent=2))
    page = tmp_path / "activity-page.json"
    page.write_text(json.dumps({"value": [AZURE[0]], "nextLink": None}, indent=4))
    df, account = read_file(array)
    assert account.format == "azure_activity_json" and account.events == 2 and account.rejected == 0
    assert df["level"].to_list() == ["error", "info"]
    assert df["message"].to_list() == ["Restart Virtual Machine\nstatus:  Failed\nstatusCode:  Conflict",
                                       "Restart Virtual Machine\nstatus:  Started\nstatusCode:  Conflict"]
    assert df["ts"][1].isoformat() == "2024-08-12T21:14:35.001234+00:00"
    assert df["actor"].to_list() == ["alice@contoso.com"] * 2
    assert json.loads(df["attrs"][0])["resourceId"].endswith("/virtualMachines/web-1")
    df2, account2 = read_file(page)
    assert account2.format == "azure_activity_json" and account2.events == 1
    assert df2["message"].to_list() == df["message"].to_list()[:1]


def test_azure_diagnostic_export_records(tmp_path: Path) -> None:
    path = tmp_path / "PT1H.json"
    path.write_text(json.dumps({"records": [AZURE[1], AZURE[1] | {"resultType": "Success", "time": "2024-08-12T21:16:09.5Z"}]}))
    df, account = read_file(path)
    assert account.format == "azure_activity_json" and account.events == 2
    assert df["message"].to_list() == ["MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/WRITE\nstatus:  Start",
                                       "MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/WRITE\nstatus:  Success"]


def test_a_record_without_time_is_rejected_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "trail.json"
    broken = {k: v for k, v in CLOUDTRAIL[1].items() if k != "eventTime"}
    path.write_text(json.dumps({"Records": [CLOUDTRAIL[0], broken, CLOUDTRAIL[2]]}, indent=2))
    df, account = read_file(path)
    assert (account.lines, account.events, account.rejected) == (3, 2, 1) and account.balanced
    assert df["message"].to_list() == ["ModifyDBInstance", "ConsoleLogin\nerrorMessage:  Failed authentication"]
    assert account.rejected_lines[0].line == 45


def test_records_of_an_unknown_family_go_to_the_generic_json_reader(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    records = [{"timestamp": f"2024-08-12T21:1{i}:00Z", "severity": "WARNING" if i else "ERROR", "message": f"disk {90 + i}% full"} for i in range(3)]
    path.write_text(json.dumps(records, indent=2))
    df, account = read_file(path)
    assert account.generic and account.events == 3 and account.balanced
    assert df["level"].to_list() == ["error", "warning", "warning"]


def test_json_lines_with_a_list_field_are_not_taken_for_a_document(tmp_path: Path) -> None:
    # A record that has its own time and happens to carry a list of objects stays one event per line.
    path = tmp_path / "app.jsonl"
    lines = [{"time": f"2024-08-12T21:16:0{i}Z", "level": "info", "msg": "batch done", "records": [{"id": i}]} for i in range(4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    df, account = read_file(path)
    assert account.events == 4 and account.records is None and account.lines == 4
    assert df["message"].to_list() == ["batch done"] * 4


def test_an_array_of_plain_values_is_not_a_list_of_records(tmp_path: Path) -> None:
    path = tmp_path / "numbers.json"
    path.write_text("[\n  1,\n  2\n]\n")
    _, account = read_file(path)
    assert account.records is None and account.events == 0 and account.lines == 4 and account.balanced


@settings(max_examples=25, deadline=None)
@given(
    times=st.lists(st.one_of(st.none(), st.integers(0, 86_399)), max_size=12),
    indent=st.sampled_from([None, 1, 2]),
    key=st.sampled_from(["Records", "value", "records", None]),
)
def test_every_record_is_an_event_or_rejected(tmp_path_factory, times: list[int | None], indent: int | None, key: str | None) -> None:
    records = []
    for n, t in enumerate(times):
        r = {"eventName": f"Call{n}", "eventSource": "s3.amazonaws.com", "userIdentity": {"arn": f"arn:aws:iam::1:user/u{n}"}}
        if t is not None:
            r["eventTime"] = f"2024-08-12T{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}Z"
        records.append(r)
    path = tmp_path_factory.mktemp("lists") / "trail.json"
    path.write_text(json.dumps(records if key is None else {key: records}, indent=indent))
    df, account = read_file(path)
    if not records:
        assert account.events == 0
        return
    assert account.records == len(records) and account.balanced
    assert account.events + account.rejected == len(records)
    dated = sum(t is not None for t in times)
    if dated * 10 >= len(times) * 6:
        # Records mostly dated: the format is recognised and every dated record read.
        assert account.format == "aws_cloudtrail_json"
        assert account.events == dated
        assert sorted(df["message"].to_list()) == sorted(f"Call{n}" for n, t in enumerate(times) if t is not None)
