"""Logs that declare their own fields (#Fields: in W3C extended logs, #fields in Zeek) are read by them."""

from __future__ import annotations

from pathlib import Path

import timeline as tl

IIS = """#Software: Microsoft Internet Information Services 10.0
#Version: 1.0
#Date: 2024-08-12 21:16:00
#Fields: date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken
2024-08-12 21:16:03 W3SVC1 10.0.3.5 POST /api/checkout - 443 - 203.0.113.7 Mozilla/5.0+(Windows+NT+10.0) 500 0 0 30012
2024-08-12 21:16:04 W3SVC1 10.0.3.5 GET /health - 80 - 10.0.3.1 kube-probe/1.29 200 0 0 3
#Software: Microsoft Internet Information Services 10.0
#Version: 1.0
#Date: 2024-08-12 21:17:00
#Fields: date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken
2024-08-12 21:17:09 W3SVC1 10.0.3.5 GET /api/orders id=42 443 lee 203.0.113.9 curl/8.5.0 404 0 2 12
"""


def test_iis_log_read_by_its_fields_directive_in_utc(tmp_path: Path) -> None:
    path = tmp_path / "u_ex240812.log"
    path.write_text(IIS)
    events = tl.read(path, quiet=True)
    df, a = events.df, events.account[0]
    assert (a.format, a.events, a.rejected, a.blank) == ("w3c", 3, 0, 8)
    assert df["message"].to_list() == ["POST /api/checkout 500", "GET /health 200", "GET /api/orders 404"]
    assert df["level"].to_list() == ["error", "info", "warning"]
    assert df["actor"].to_list() == ["203.0.113.7", "10.0.3.1", "203.0.113.9"]
    assert df["ts"][0].isoformat() == "2024-08-12T21:16:03+00:00"
    assert events.zone_warning is None  # W3C times are UTC by definition


def test_fields_in_another_order_with_quoted_values(tmp_path: Path) -> None:
    path = tmp_path / "cdn.log"
    path.write_text(
        "#Version: 1.0\n#Fields: c-ip date time cs-method cs-uri sc-status cs(User-Agent)\n"
        '203.0.113.7  2024-08-12  21:16:03  GET  /a  503  "Mozilla/5.0 (X11; Linux x86_64)"\n'
    )
    events = tl.read(path, quiet=True)
    a = events.account[0]
    assert (a.format, a.events, a.rejected) == ("w3c", 1, 0)
    assert events.df["level"][0] == "error" and events.df["message"][0] == "GET /a 503"


def test_time_only_lines_take_the_date_directive(tmp_path: Path) -> None:
    path = tmp_path / "ftp.log"
    path.write_text("#Version: 1.0\n#Date: 2024-08-12 23:59:58\n#Fields: time c-ip cs-method cs-uri-stem sc-status\n"
                    "23:59:59 10.0.1.5 [2]USER anonymous 331\n00:00:01 10.0.1.5 [2]PASS - 230\n")
    events = tl.read(path, quiet=True)
    assert [t.isoformat() for t in events.df["ts"]] == ["2024-08-12T23:59:59+00:00", "2024-08-13T00:00:01+00:00"]


def test_zeek_log_read_by_its_fields_with_epoch_times(tmp_path: Path) -> None:
    path = tmp_path / "http.log"
    path.write_text(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\tstatus_code\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tcount\n"
        "1723497363.118223\tCg9xqq3JAcZusspA86\t10.0.1.5\t51724\t10.0.3.21\t80\tGET\tshop.example.com\t/api/orders\t502\n"
        "#close\t2024-08-12-21-30-00\n"
    )
    events = tl.read(path, quiet=True)
    df, a = events.df, events.account[0]
    assert (a.format, a.events, a.rejected) == ("w3c", 1, 0)
    assert df["ts"][0].isoformat() == "2024-08-12T21:16:03.118223+00:00"
    assert df["message"][0] == "GET shop.example.com /api/orders 502" and df["level"][0] == "error"
