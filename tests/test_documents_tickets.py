"""Ticket exports: Zendesk, Jira, Freshdesk, ServiceNow and the generic mapped reader."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from timeline._errors import InputError
from timeline.sources import read_file
from timeline.sources.documents import DocumentOptions, readers

UTC = dt.UTC


def _events(frame: pl.DataFrame) -> list[tuple[str, str, str | None]]:
    return [(r["ts"].isoformat(), r["action"], r["ref"]) for r in frame.sort("ts", maintain_order=True).iter_rows(named=True)]


def _ticket(**over):
    base = {
        "url": "https://acme.zendesk.com/api/v2/tickets/48207.json",
        "id": 48207,
        "external_id": None,
        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": "2024-08-12T21:30:12Z",
        "updated_at": "2024-08-12T23:02:11Z",
        "type": "incident",
        "subject": "Can't access my account - error page",
        "raw_subject": "Can't access my account - error page",
        "description": "When I open My Account I get an error page.",
        "priority": "urgent",
        "status": "solved",
        "requester_id": 462003142208,
        "submitter_id": 462003142208,
        "assignee_id": 381204857301,
        "organization_id": None,
        "group_id": 360004412255,
        "tags": ["outage"],
        "due_at": None,
    }
    base.update(over)
    return base


@pytest.fixture(name="zendesk_export")
def fixture_zendesk_export(tmp_path):
    """An incremental ticket export page with side-loaded users and metric sets."""
    doc = {
        "tickets": [_ticket(), _ticket(id=48208, subject="Orders page shows an error", created_at="2024-08-12T21:32:40Z", status="open", priority="high")],
        "users": [{"id": 462003142208, "name": "Ana Customer"}, {"id": 381204857301, "name": "Priya Raman"}],
        "metric_sets": [{"ticket_id": 48207, "initially_assigned_at": "2024-08-12T21:33:21Z", "solved_at": "2024-08-12T23:02:11Z", "created_at": "2024-08-12T21:30:12Z"}],
        "next_page": None,
        "count": 2,
        "end_of_stream": True,
        "end_time": 1723503731,
    }
    path = tmp_path / "export-page-1.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def test_zendesk_ticket_yields_created_with_subject_and_lifecycle(zendesk_export):
    """A ticket gives created (subject and description, requester by name) and assigned/solved from its metric set."""
    events, account = read_file(zendesk_export)
    assert account.format == "zendesk"
    assert _events(events) == [
        ("2024-08-12T21:30:12+00:00", "created", "48207"),
        ("2024-08-12T21:32:40+00:00", "created", "48208"),
        ("2024-08-12T21:33:21+00:00", "assigned", "48207"),
        ("2024-08-12T23:02:11+00:00", "solved", "48207"),
    ]
    created = events.filter(pl.col("action") == "created").row(0, named=True)
    assert created["message"].startswith("Can't access my account - error page")
    assert created["actor"] == "Ana Customer"
    assert created["kind"] == "ticket" and created["level"] == "critical"
    assert account.records == 2 and account.rejected == 0


def test_zendesk_due_at_is_not_a_lifecycle_time(tmp_path):
    """A ticket's due_at and a custom field's date never become events."""
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"tickets": [_ticket(due_at="2024-08-20T00:00:00Z", custom_fields=[{"id": 1, "value": "2024-09-01T00:00:00Z"}])]}))
    events, _ = read_file(path)
    assert events["action"].to_list() == ["created"]


def _audit(aid, ticket, at, author, events):
    return {"id": aid, "ticket_id": ticket, "created_at": at, "author_id": author, "metadata": {"system": {}, "custom": {}}, "via": {"channel": "web"}, "events": events}


def _change(field, value, previous):
    return {"id": 1, "type": "Change", "field_name": field, "value": value, "previous_value": previous}


@pytest.fixture(name="audits")
def fixture_audits(tmp_path):
    """Audits of one ticket: created, escalated (group change), solved, reopened by the customer, solved again."""
    doc = {
        "audits": [
            _audit(1, 48207, "2024-08-12T21:30:12Z", 11, [
                {"id": 10, "type": "Comment", "author_id": 11, "body": "error page", "html_body": "<p>error page</p>", "plain_body": "error page", "public": True},
                {"id": 11, "type": "Create", "field_name": "subject", "value": "Can't access my account"},
                {"id": 12, "type": "Create", "field_name": "status", "value": "new"},
            ]),
            _audit(2, 48207, "2024-08-12T21:35:08Z", 22, [
                {"id": 20, "type": "Comment", "author_id": 22, "body": "Escalating to engineering.", "plain_body": "Escalating to engineering.", "public": False},
                _change("group_id", "360004412255", "360004412211"),
                _change("priority", "urgent", "normal"),
            ]),
            _audit(3, 48207, "2024-08-12T23:02:11Z", 33, [_change("status", "solved", "open")]),
            _audit(4, 48207, "2024-08-13T08:10:00Z", 11, [
                {"id": 40, "type": "Comment", "author_id": 11, "body": "Still broken for me", "plain_body": "Still broken for me", "public": True},
                _change("status", "open", "solved"),
            ]),
            _audit(5, 48207, "2024-08-13T09:00:00Z", 33, [_change("status", "solved", "open")]),
        ],
        "next_page": None,
        "previous_page": None,
        "count": 5,
    }
    path = tmp_path / "audits.json"
    path.write_text(json.dumps(doc))
    return path


def test_zendesk_audits_give_escalation_solve_and_reopen(audits):
    """Each audit is one event named by its telling change; a ticket reopened after solving says so."""
    events, account = read_file(audits)
    assert [a for _, a, _ in _events(events)] == ["commented", "escalated", "solved", "reopened", "solved"]
    reopened = events.filter(pl.col("action") == "reopened").row(0, named=True)
    assert "Still broken for me" in reopened["message"]
    assert account.records == 5 and account.rejected == 0


ZENDESK_CSV = (
    "Id,Requester,Requester id,Assignee,Group,Subject,Tags,Status,Priority,Via,Ticket type,Created at,Updated at,Assigned at,Initially assigned at,Solved at,Resolution time,Full resolution time,Reopens,Replies\n"
    '48207,Ana Customer,462003142208,Priya Raman,Engineering,"Error page, ""503"" on\nMy Account",outage,Solved,Urgent,Web form,Incident,2024-08-12 14:30,2024-08-12 16:02,2024-08-12 14:33,2024-08-12 14:33,2024-08-12 16:02,2,2,0,3\n'
    "48208,Ben Buyer,462003150127,,Support,Orders page shows an error,,Open,High,Email,Question,2024-08-12 14:32,2024-08-12 14:36,,,,,,0,1\n"
)


def test_zendesk_ui_csv_with_newlines_and_quotes(tmp_path):
    """The UI export's rows (a subject with a comma, quotes and a newline) give created/assigned/solved in the given zone."""
    path = tmp_path / "tickets.csv"
    path.write_text(ZENDESK_CSV)
    events, account = read_file(path, tz="America/Los_Angeles")
    assert account.format == "zendesk" and account.rejected == 0
    assert _events(events) == [
        ("2024-08-12T21:30:00+00:00", "created", "48207"),
        ("2024-08-12T21:32:00+00:00", "created", "48208"),
        ("2024-08-12T21:33:00+00:00", "assigned", "48207"),
        ("2024-08-12T23:02:00+00:00", "solved", "48207"),
    ]
    first = events.filter(pl.col("ref") == "48207").row(0, named=True)
    assert first["message"] == 'Error page, "503" on\nMy Account'
    assert first["line"] == 2
    assert events.filter(pl.col("ref") == "48208")["line"].to_list() == [4]


JIRA_CSV = (
    "Summary,Issue key,Issue id,Issue Type,Status,Priority,Resolution,Assignee,Reporter,Creator,Created,Updated,Last Viewed,Resolved,Labels,Labels,Description,Comment,Comment\n"
    '"Checkout returns 500, intermittently",OPS-42,10042,Incident,Done,Highest,Fixed,Dana Ortiz,Lee Park,Lee Park,14/Aug/24 2:31 PM,14/Aug/24 4:10 PM,,14/Aug/24 4:05 PM,db,outage,"Customers see ""500"".\nSince 14:14.","14/Aug/24 2:40 PM;557058:ab12;Looking at the DB now","14/Aug/24 3:01 PM;557058:cd34;Root cause: max_connections, see ""CHG-2231"""\n'
)


def test_jira_csv_dates_comments_and_repeated_columns(tmp_path):
    """Jira's dd/MMM/yy h:mm a dates, repeated Labels and Comment columns, quoted newlines."""
    path = tmp_path / "jira.csv"
    path.write_text(JIRA_CSV)
    events, account = read_file(path, tz="America/Los_Angeles")
    assert account.format == "jira" and account.rejected == 0
    assert [(t, a) for t, a, _ in _events(events)] == [
        ("2024-08-14T21:31:00+00:00", "created"),
        ("2024-08-14T21:40:00+00:00", "commented"),
        ("2024-08-14T22:01:00+00:00", "commented"),
        ("2024-08-14T23:05:00+00:00", "resolved"),
    ]
    created = events.filter(pl.col("action") == "created").row(0, named=True)
    assert created["message"] == 'Checkout returns 500, intermittently\nCustomers see "500".\nSince 14:14.'
    assert json.loads(created["attrs"])["labels"] == ["db", "outage"]
    assert events.filter(pl.col("action") == "commented")["message"].to_list()[1] == 'Root cause: max_connections, see "CHG-2231"'


def test_jira_csv_other_date_format_via_option(tmp_path):
    """An instance date format given as a strptime option is used."""
    path = tmp_path / "jira.csv"
    path.write_text("Summary,Issue key,Issue id,Status,Created,Resolved\nDB down,OPS-7,7,Open,2024.08.12 14:31,\n")
    reader = readers()["jira"]
    events, account = reader.read(path, DocumentOptions(spec_options={"time_format": "%Y.%m.%d %H:%M"}))
    assert account.rejected == 0
    assert events["ts"].to_list() == [dt.datetime(2024, 8, 12, 14, 31, tzinfo=UTC)]


def test_jira_rest_issue_with_changelog(tmp_path):
    """REST issues give created, a changelog escalation, resolution and reopening, and comments (ADF bodies)."""
    issue = {
        "id": "10042",
        "key": "OPS-42",
        "fields": {
            "summary": "Checkout returns 500",
            "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Customers see 500."}]}]},
            "created": "2024-08-12T14:31:00.000-0700",
            "updated": "2024-08-12T16:10:00.000-0700",
            "resolutiondate": "2024-08-12T16:05:00.000-0700",
            "priority": {"name": "Highest"},
            "status": {"name": "Done"},
            "reporter": {"displayName": "Lee Park"},
            "assignee": {"displayName": "Dana Ortiz"},
            "comment": {"comments": [{"id": "1", "author": {"displayName": "Dana Ortiz"}, "body": "Looking at it", "created": "2024-08-12T14:40:00.000-0700"}], "total": 1},
        },
        "changelog": {
            "histories": [
                {"id": "1", "author": {"displayName": "Lee Park"}, "created": "2024-08-12T14:35:00.000-0700", "items": [{"field": "status", "fieldtype": "jira", "from": "1", "fromString": "Open", "to": "10", "toString": "Escalated"}]},
                {"id": "2", "author": {"displayName": "Lee Park"}, "created": "2024-08-12T14:36:00.000-0700", "items": [{"field": "assignee", "fieldtype": "jira", "fromString": None, "toString": "Dana Ortiz"}]},
                {"id": "3", "author": {"displayName": "Dana Ortiz"}, "created": "2024-08-12T16:05:00.000-0700", "items": [{"field": "status", "fromString": "Escalated", "toString": "Done"}, {"field": "resolution", "fromString": None, "toString": "Fixed"}]},
                {"id": "4", "author": {"displayName": "Lee Park"}, "created": "2024-08-12T17:00:00.000-0700", "items": [{"field": "status", "fromString": "Done", "toString": "In Progress"}]},
            ]
        },
    }
    path = tmp_path / "search.json"
    path.write_text(json.dumps({"expand": "changelog", "startAt": 0, "maxResults": 50, "total": 1, "issues": [issue]}))
    events, account = read_file(path)
    assert account.format == "jira" and account.rejected == 0
    assert [a for _, a, _ in _events(events)] == ["created", "escalated", "assigned", "commented", "resolved", "reopened"]
    assert events.filter(pl.col("action") == "created")["message"].to_list() == ["Checkout returns 500\nCustomers see 500."]


FRESHDESK = [
    {
        "id": 311,
        "subject": "Cannot pay",
        "description": "<div>Checkout shows <b>error&nbsp;500</b><br>since 2:30</div>",
        "description_text": None,
        "status": 5,
        "priority": 4,
        "source": 7,
        "type": "Incident",
        "requester_id": 5001,
        "responder_id": 7002,
        "group_id": None,
        "tags": [],
        "is_escalated": True,
        "due_by": "2024-08-15T21:31:00Z",
        "fr_due_by": "2024-08-13T21:31:00Z",
        "created_at": "2024-08-12T21:31:00Z",
        "updated_at": "2024-08-12T23:10:00Z",
        "requester": {"id": 5001, "name": "Ana Customer", "email": "ana@example.com"},
        "stats": {"agent_responded_at": "2024-08-12T21:36:00Z", "first_responded_at": "2024-08-12T21:36:00Z", "resolved_at": "2024-08-12T23:02:00Z", "closed_at": "2024-08-12T23:10:00Z", "reopened_at": None, "status_updated_at": "2024-08-12T23:10:00Z", "pending_since": None},
    }
]


def test_freshdesk_html_codes_and_stats(tmp_path):
    """HTML description to text, numeric codes mapped, stats times as events, due_by ignored."""
    path = tmp_path / "fd.json"
    path.write_text(json.dumps(FRESHDESK))
    events, account = read_file(path)
    assert account.format == "freshdesk" and account.rejected == 0
    assert [a for _, a, _ in _events(events)] == ["created", "responded", "resolved", "closed"]
    created = events.filter(pl.col("action") == "created").row(0, named=True)
    assert created["message"] == "Cannot pay\nCheckout shows error 500\nsince 2:30"
    assert created["actor"] == "Ana Customer"
    attrs = json.loads(created["attrs"])
    assert (attrs["status"], attrs["priority"], attrs["source"]) == ("closed", "urgent", "chat")


def test_servicenow_table_api_with_reference_fields(tmp_path):
    """ServiceNow incidents: opened/resolved/closed, reference fields by display value, times in the given zone."""
    doc = {"result": [{
        "sys_id": "9d385017c611228701d22104cc95c371",
        "number": "INC0010042",
        "short_description": "Checkout errors",
        "description": "503 on /orders",
        "state": "7",
        "priority": "1",
        "impact": "1",
        "urgency": "1",
        "opened_at": "2024-08-12 14:31:00",
        "resolved_at": "2024-08-12 16:05:00",
        "closed_at": "2024-08-13 09:00:00",
        "caller_id": {"display_value": "Ana Customer", "link": "https://x.service-now.com/api/now/table/sys_user/1"},
        "assigned_to": {"display_value": "Dana Ortiz", "link": "https://x.service-now.com/api/now/table/sys_user/2"},
        "sys_created_on": "2024-08-12 14:31:05",
        "sys_updated_on": "2024-08-13 09:00:00",
    }]}
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(doc))
    events, account = read_file(path, tz="America/Los_Angeles")
    assert account.format == "servicenow" and account.rejected == 0
    assert _events(events) == [
        ("2024-08-12T21:31:00+00:00", "created", "INC0010042"),
        ("2024-08-12T23:05:00+00:00", "resolved", "INC0010042"),
        ("2024-08-13T16:00:00+00:00", "closed", "INC0010042"),
    ]
    assert events["actor"].to_list()[0] == "Ana Customer"


def test_generic_mapping_lifecycle_columns(tmp_path):
    """A CSV read through a mapping gives one event per filled lifecycle time, and reports a bad one by row."""
    path = tmp_path / "cases.csv"
    path.write_text("Case,Opened,Escalated On,Closed,Subject,Owner\nC-17,Aug 12 2024 2:31 PM,Aug 12 2024 2:35 PM,Aug 12 2024 4:05 PM,Checkout failing,lee\nC-18,Aug 12 2024 3:00 PM,,sometime,Refund,kim\n")
    options = DocumentOptions(tz="America/Los_Angeles", column_map={"ref": "Case", "message": "Subject", "actor": "Owner", "created": "Opened", "escalated": "Escalated On", "solved": "Closed"})
    events, account = readers()["generic"].read(path, options)
    assert [(r["action"], r["ref"]) for r in events.sort("ts").iter_rows(named=True)] == [("created", "C-17"), ("escalated", "C-17"), ("created", "C-18"), ("solved", "C-17")]
    assert account.rejected == 1 and account.rejected_lines[0].line == 3


def test_generic_without_mapping_says_what_it_needs(tmp_path):
    """Forcing the generic reader without a mapping fails with an example mapping."""
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="column mapping"):
        readers()["generic"].read(path, DocumentOptions())


def test_generic_mapping_names_missing_columns(tmp_path):
    """A mapping naming a column the file lacks lists the header."""
    path = tmp_path / "x.csv"
    path.write_text("When,What\n2024-08-12T14:00:00Z,x\n")
    with pytest.raises(InputError, match="'Time', not in the header; the header has When, What"):
        readers()["generic"].read(path, DocumentOptions(column_map={"ts": "Time"}))
