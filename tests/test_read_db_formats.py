"""Database logs (PostgreSQL stderr/csvlog/jsonlog, MySQL, MariaDB, slow log) are recognised and read right."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import timeline.sources as sources

UTC = dt.UTC

PG_STDERR = """\
2024-08-12 14:29:58.001 PDT [1010] LOG:  received SIGHUP, reloading configuration files
2024-08-12 14:29:58.004 PDT [1010] LOG:  parameter "max_connections" cannot be changed without restarting the server
2024-08-12 14:31:07.118 PDT [4242] app@shop FATAL:  sorry, too many clients already
2024-08-12 14:31:07.250 PDT [4243] app@shop ERROR:  duplicate key value violates unique constraint "orders_pkey"
2024-08-12 14:31:07.250 PDT [4243] app@shop DETAIL:  Key (id)=(42) already exists.
2024-08-12 14:31:07.250 PDT [4243] app@shop STATEMENT:  INSERT INTO orders (id, total)
\tVALUES (42, 10.5)
\tRETURNING id;

2024-08-12 14:31:09.000 PDT [1010] LOG:  received fast shutdown request
"""

PG_CSV = '''\
2024-06-27 00:00:07.369 CEST,,,1400,,667c8d1f.578,6,,2024-06-27 00:00:03 CEST,,0,LOG,00000,"received SIGHUP, reloading configuration files",,,,,,,,,"","postmaster",,0
2024-06-27 00:00:08.100 CEST,"app","shop",5120,"10.0.3.7:51514",667c8d20.1400,4,"INSERT",2024-06-27 00:00:01 CEST,3/12,741,ERROR,23505,"duplicate key value violates unique constraint ""orders_pkey""","Key (id)=(42) already exists.",,,,,"INSERT INTO orders (id, total)
VALUES (42, 10.5)
RETURNING id",13,,"psql","client backend",,0
2024-06-27 00:00:09.200 CEST,"app","shop",5121,"10.0.3.7:51516",667c8d21.1401,1,"startup",2024-06-27 00:00:09 CEST,,0,FATAL,53300,"sorry, too many clients already",,,,,,,,,"","client backend",,0
'''

PG_JSON = """\
{"timestamp":"2024-05-02 12:14:07.118 +03","pid":1010,"session_id":"6633a0af.3f2","line_num":4,"session_start":"2024-05-02 12:10:01 +03","txid":0,"error_severity":"LOG","message":"received SIGHUP, reloading configuration files","backend_type":"postmaster","query_id":0}
{"timestamp":"2024-05-02 12:14:08.500 +03","user":"app","dbname":"shop","pid":4242,"remote_host":"10.0.3.7","remote_port":51514,"session_id":"6633a0b0.1092","line_num":1,"ps":"startup","session_start":"2024-05-02 12:14:08 +03","txid":0,"error_severity":"FATAL","state_code":"53300","message":"sorry, too many clients already","backend_type":"client backend","query_id":0}
{"timestamp":"2024-05-02 12:14:09.000 +03","user":"app","dbname":"shop","pid":4243,"remote_host":"10.0.3.7","remote_port":51516,"session_id":"6633a0b1.1093","line_num":3,"ps":"INSERT","session_start":"2024-05-02 12:14:08 +03","vxid":"3/12","txid":741,"error_severity":"ERROR","state_code":"23505","message":"duplicate key value violates unique constraint \\"orders_pkey\\"","detail":"Key (id)=(42) already exists.","statement":"INSERT INTO orders VALUES (42)","application_name":"psql","backend_type":"client backend","query_id":0}
"""

MYSQL8 = """\
2024-05-02T09:14:07.118224Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) starting as process 1
2024-05-02T09:14:08.000001Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.
2024-05-02T09:20:00.500000Z 12 [Note] [MY-010914] [Server] Aborted connection 12 to db: 'shop' user: 'app' host: '10.0.1.5' (Got an error reading communication packets).
2024-05-02T09:21:00.000000Z 0 [ERROR] [MY-012592] [InnoDB] Operating system error number 28 in a file operation.
"""

MYSQL57 = """\
2024-05-02T09:14:07.118224Z 0 [Note] mysqld (mysqld 5.7.44) starting as process 1 ...
2024-05-02T09:14:07.200000Z 0 [Warning] Changed limits: max_open_files: 1024 (requested 5000)
2024-05-02T09:14:08.000000Z 0 [Note] mysqld: ready for connections.
"""

MARIADB = """\
2024-03-01 10:20:29 0 [Note] Starting MariaDB 10.11.6-MariaDB-0+deb12u1 source revision  as process 1
2024-03-01 10:20:31 14 [Warning] Aborted connection 14 to db: 'shop' user: 'app' host: '10.0.1.5' (Got an error reading communication packets)
2024-03-01 10:20:35 0 [ERROR] mariadbd: Table './shop/orders' is marked as crashed and should be repaired
"""

SLOW = """\
/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:
Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock
Time                 Id Command    Argument
# Time: 2024-05-02T09:14:07.118224Z
# User@Host: app[app] @ web1 [10.0.1.5]  Id:    88
# Query_time: 3.201456  Lock_time: 0.000102 Rows_sent: 1  Rows_examined: 500000
use shop;
SET timestamp=1714641244;
SELECT * FROM orders
WHERE customer_email = 'a@example.com';
# Time: 2024-05-02T09:14:09.000001Z
# User@Host: app[app] @ web1 [10.0.1.5]  Id:    89
# Query_time: 1.500000  Lock_time: 0.000050 Rows_sent: 0  Rows_examined: 120000
SET timestamp=1714641247;
UPDATE orders SET status = 'late' WHERE id = 7;
"""

SLOW_MARIADB = """\
# Time: 240502  9:14:07
# User@Host: app[app] @ localhost []
# Thread_id: 88  Schema: shop  QC_hit: No
# Query_time: 12.000123  Lock_time: 0.000040  Rows_sent: 0  Rows_examined: 1200000
SET timestamp=1714641247;
SELECT COUNT(*) FROM orders;
# User@Host: app[app] @ localhost []
# Thread_id: 89  Schema: shop  QC_hit: No
# Query_time: 2.000000  Lock_time: 0.000040  Rows_sent: 1  Rows_examined: 1000
SET timestamp=1714641247;
SELECT 1 FROM orders LIMIT 1;
"""

FILES = {
    "postgresql-2024-08-12.log": (PG_STDERR, "postgres_stderr"),
    "postgresql-2024-06-27.csv": (PG_CSV, "postgres_csvlog"),
    "postgresql-2024-05-02.json": (PG_JSON, "postgres_jsonlog"),
    "mysql8-error.log": (MYSQL8, "mysql_error"),
    "mysql57-error.log": (MYSQL57, "mysql_error"),
    "mariadb-error.log": (MARIADB, "mariadb_error"),
    "mysql-slow.log": (SLOW, "mysql_slow"),
    "mariadb-slow.log": (SLOW_MARIADB, "mysql_slow"),
}


@pytest.fixture(name="db_logs", scope="module")
def fixture_db_logs(tmp_path_factory):
    """A folder with one file of every database log format."""
    folder = tmp_path_factory.mktemp("db_logs")
    for name, (text, _) in FILES.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(name="db_table", scope="module")
def fixture_db_table(db_logs):
    """The whole folder read at once, every file's format sniffed."""
    return sources.read(db_logs, quiet=True)


def _one(path, **kwargs):
    table = sources.read(path, quiet=True, **kwargs)
    return table.df, table.account[0]


@pytest.mark.parametrize("name", list(FILES))
def test_each_format_is_recognised_among_the_others(db_table, name):
    """Read from a folder of all of them, each file is sniffed as its own format with nothing rejected."""
    account = next(a for a in db_table.account if a.file.endswith(name))
    assert account.format == FILES[name][1]
    assert account.rejected == 0, account.rejected_lines
    assert account.balanced


def test_stderr_pdt_times_are_utc(db_logs):
    """PDT on the line is UTC-7: 14:31:07.118 PDT is 21:31:07.118 UTC."""
    df, _ = _one(db_logs / "postgresql-2024-08-12.log")
    fatal = df.filter(pl.col("message").str.contains("too many clients"))
    assert fatal["ts"].to_list() == [dt.datetime(2024, 8, 12, 21, 31, 7, 118000, tzinfo=UTC)]
    assert fatal["level"].cast(pl.String).to_list() == ["error"]


def test_stderr_detail_statement_and_tab_lines_are_continuations(db_logs):
    """DETAIL, STATEMENT and two tab-continued lines join the ERROR: 4 continuation lines, 5 events, 1 blank."""
    df, account = _one(db_logs / "postgresql-2024-08-12.log")
    assert (account.events, account.continuation_lines, account.blank) == (5, 4, 1)
    error = df.filter(pl.col("level") == "error", pl.col("message").str.starts_with("duplicate"))
    assert error["message"][0].endswith("STATEMENT:  INSERT INTO orders (id, total)\n\tVALUES (42, 10.5)\n\tRETURNING id;")
    assert error["line"].to_list() == [4]


def test_csvlog_quoted_newlines_keep_line_numbers(db_logs):
    """A csvlog record spanning three lines counts two continuation lines, and the next record keeps its real line."""
    df, account = _one(db_logs / "postgresql-2024-06-27.csv")
    assert account.lines == 5 and account.events == 3 and account.continuation_lines == 2
    assert df["line"].to_list() == [1, 2, 5]
    assert 'constraint "orders_pkey"' in df["message"][1]
    assert "STATEMENT:  INSERT INTO orders (id, total)\nVALUES (42, 10.5)" in df["message"][1]


def test_csvlog_cest_times_are_utc(db_logs):
    """CEST is UTC+2: 00:00:07.369 CEST on 27 June is 22:00:07.369 UTC on the 26th."""
    df, _ = _one(db_logs / "postgresql-2024-06-27.csv")
    assert df["ts"][0] == dt.datetime(2024, 6, 26, 22, 0, 7, 369000, tzinfo=UTC)


def test_jsonlog_numeric_offset_and_detail(db_logs):
    """jsonlog's '+03' offset is read, FATAL is an error, and detail/statement keys join the message."""
    df, _ = _one(db_logs / "postgresql-2024-05-02.json")
    assert df["ts"].to_list()[:2] == [
        dt.datetime(2024, 5, 2, 9, 14, 7, 118000, tzinfo=UTC),
        dt.datetime(2024, 5, 2, 9, 14, 8, 500000, tzinfo=UTC),
    ]
    assert df["level"].cast(pl.String).to_list() == ["info", "error", "error"]
    assert df["message"][2].endswith("DETAIL:  Key (id)=(42) already exists.\nSTATEMENT:  INSERT INTO orders VALUES (42)")


def test_mysql8_labels_and_codes(db_logs):
    """MySQL 8 System is notice, Note info; err_code and subsystem are kept in attrs."""
    df, _ = _one(db_logs / "mysql8-error.log")
    assert df["level"].cast(pl.String).to_list() == ["notice", "notice", "info", "error"]
    assert '"err_code":"MY-010914"' in df["attrs"][2]
    assert df["ts"][0] == dt.datetime(2024, 5, 2, 9, 14, 7, 118224, tzinfo=UTC)
    assert set(df["service"].to_list()) == {"mysql"}


def test_mariadb_local_time_takes_tz(db_logs):
    """MariaDB writes local time with no zone: with tz=Europe/Berlin, 10:20:31 in March is 09:20:31 UTC."""
    df, account = _one(db_logs / "mariadb-error.log", tz="Europe/Berlin")
    assert df["ts"][1] == dt.datetime(2024, 3, 1, 9, 20, 31, tzinfo=UTC)
    assert account.tz == "Europe/Berlin"


def test_slow_log_blocks_are_events(db_logs):
    """Each '# Time:' block is one event whose message is the statement; banner lines are skipped, not rejected."""
    df, account = _one(db_logs / "mysql-slow.log")
    assert (account.events, account.blank, account.rejected) == (2, 3, 0)
    assert account.continuation_lines == 10
    assert df["message"].to_list() == [
        "use shop;\nSELECT * FROM orders\nWHERE customer_email = 'a@example.com';",
        "UPDATE orders SET status = 'late' WHERE id = 7;",
    ]
    assert df["ts"].to_list() == [
        dt.datetime(2024, 5, 2, 9, 14, 7, 118224, tzinfo=UTC),
        dt.datetime(2024, 5, 2, 9, 14, 9, 1, tzinfo=UTC),
    ]
    assert '"query_time":"3.201456"' in df["attrs"][0] and '"rows_examined":"500000"' in df["attrs"][0]


def test_mariadb_slow_log_without_time_lines_uses_set_timestamp(db_logs):
    """A MariaDB block with no '# Time:' line starts at '# User@Host:' and takes its time from SET timestamp (UTC)."""
    df, account = _one(db_logs / "mariadb-slow.log")
    assert account.events == 2 and account.rejected == 0
    assert df["ts"].to_list() == [dt.datetime(2024, 5, 2, 9, 14, 7, tzinfo=UTC)] * 2
    assert df["message"].to_list()[1] == "# Thread_id: 89  Schema: shop  QC_hit: No\nSELECT 1 FROM orders LIMIT 1;"
