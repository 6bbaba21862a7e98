"""The user's own format, written the way they know it: Python logging and log4j patterns."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import warnings

import pytest

from timeline._errors import FormatSpecError
from timeline.sources import read_file
from timeline.sources._samples import check_spec
from timeline.sources._user_formats import spec_from_log4j, spec_from_python_logging

PYTHON_FORMATS = [
    ("%(asctime)s %(levelname)s [%(name)s] %(message)s", None),
    ("%(asctime)s.%(msecs)03d %(levelname)-8s %(name)s:%(lineno)d %(message)s", "%Y-%m-%dT%H:%M:%S"),
    ("%(created)f %(levelno)s %(process)d %(threadName)s %(message)s", None),
    ("{asctime} {levelname:<8} {name}: {message}", None),
    ("%(asctime)s %(request_id)s %(levelname)s %(message)s", "%d/%b/%Y %H:%M:%S %z"),
]
LOG4J_PATTERNS = [
    "%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n",
    "%d [%t] %-5p %c - %m%n",
    "%d{ISO8601} %-5p [%t] %c{1}: %m%n",
    "%clr(%d{yyyy-MM-dd HH:mm:ss.SSS}){faint} %clr(%5p) %clr(${PID}){magenta} --- [%15.15t] %-40.40logger{39} : %m%n%wEx",
    "%highlight{%d{yyyy-MM-dd HH:mm:ss.SSSXXX} %-5level}{STYLE=Logback} [%X{requestId}] %c{1.} - %msg%n",
    "%d{UNIX_MILLIS} %p %m%n",
    "%d{MMM dd HH:mm:ss} %p %m%n",
]


@pytest.mark.parametrize(("fmt", "datefmt"), PYTHON_FORMATS, ids=[f[0][:30] for f in PYTHON_FORMATS])
def test_python_format_spec_passes_its_own_samples(fmt, datefmt):
    """A spec built from a Python format parses the lines logging.Formatter renders from it."""
    spec = spec_from_python_logging(fmt, datefmt=datefmt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_spec(spec)


@pytest.mark.parametrize("pattern", LOG4J_PATTERNS, ids=[p[:30] for p in LOG4J_PATTERNS])
def test_log4j_pattern_spec_passes_its_own_samples(pattern):
    """A spec built from a PatternLayout parses lines rendered from it, stack trace included."""
    spec = spec_from_log4j(pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_spec(spec)


def test_python_spec_reads_a_real_logger_file_with_a_traceback(tmp_path):
    """Lines written by a real logging.FileHandler, with logger.exception, read back with the traceback joined."""
    fmt = "%(asctime)s %(levelname)-8s [%(name)s] %(message)s"
    path = tmp_path / "worker.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    formatter = logging.Formatter(fmt)
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger = logging.getLogger("orders.worker.test")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("picked job 17")
        try:
            {}["missing"]
        except KeyError:
            logger.exception("job 17 failed")
        logger.warning("queue depth 812")
    finally:
        logger.removeHandler(handler)
        handler.close()
    events, account = read_file(path, format=spec_from_python_logging(fmt, name="worker"))
    assert account.format == "worker"
    assert events["level"].to_list() == ["info", "error", "warning"]
    assert account.continuation_lines >= 3
    assert "KeyError: 'missing'" in events["message"][1]
    assert events["service"].unique().to_list() == ["orders.worker.test"]
    assert account.balanced and account.rejected == 0


def test_python_format_without_a_time_is_refused():
    """basicConfig's default format has no time, and the error says so."""
    with pytest.raises(FormatSpecError, match="has no time"):
        spec_from_python_logging("%(levelname)s:%(name)s:%(message)s")


def test_log4j_pattern_without_a_date_is_refused():
    """A PatternLayout without %d cannot be placed on a timeline."""
    with pytest.raises(FormatSpecError, match="no %d"):
        spec_from_log4j("[%t] %-5level %logger - %msg%n")


def test_log4j_time_only_pattern_counts_midnight(tmp_path):
    """A time-only pattern dates lines from the file's mtime and keeps order across midnight."""
    spec = spec_from_log4j("%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n", name="billing")
    path = tmp_path / "billing.log"
    path.write_text(
        "23:59:58.100 [main] INFO  com.example.Billing - closing day\n"
        "00:00:01.250 [main] ERROR com.example.Billing - ledger locked\n"
        "\tat com.example.Billing.close(Billing.java:88)\n"
    )
    mtime = dt.datetime(2024, 8, 13, 0, 5, tzinfo=dt.UTC).timestamp()
    os.utime(path, (mtime, mtime))
    events, account = read_file(path, format=spec)
    assert events["ts"].to_list() == [
        dt.datetime(2024, 8, 12, 23, 59, 58, 100000, tzinfo=dt.UTC),
        dt.datetime(2024, 8, 13, 0, 0, 1, 250000, tzinfo=dt.UTC),
    ]
    assert account.continuation_lines == 1


def test_log4j_spring_boot_console_pattern_reads_real_lines(tmp_path):
    """Spring Boot's coloured console pattern, with ${PID}, reads its real (uncoloured) file lines."""
    spec = spec_from_log4j(
        "%clr(%d{yyyy-MM-dd HH:mm:ss.SSS}){faint} %clr(%5p) %clr(${PID}){magenta} --- [%15.15t] %-40.40logger{39} : %m%n%wEx"
    )
    path = tmp_path / "app.log"
    path.write_text(
        "2024-08-12 14:16:08.337  INFO 4242 --- [           main] c.e.checkout.CheckoutApplication         : Started in 4.2 seconds\n"
        "2024-08-12 14:16:09.001 ERROR 4242 --- [nio-8080-exec-9] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() threw exception\n"
    )
    events, account = read_file(path, format=spec, tz="America/Los_Angeles")
    assert events["level"].to_list() == ["info", "error"]
    assert events["ts"][0] == dt.datetime(2024, 8, 12, 21, 16, 8, 337000, tzinfo=dt.UTC)
    assert events["service"][0] == "c.e.checkout.CheckoutApplication"
    assert account.rejected == 0


def test_python_brace_style_with_padding(tmp_path):
    """'{' style formats with padded fields read the lines logging writes."""
    spec = spec_from_python_logging("{asctime} {levelname:>8} {name}: {message}")
    path = tmp_path / "api.log"
    path.write_text("2024-08-12 14:16:04,512    ERROR api.pool: exhausted\n2024-08-12 14:16:05,000     INFO api.pool: recovered\n")
    events, _ = read_file(path, format=spec)
    assert events["level"].to_list() == ["error", "info"]
    assert events["message"].to_list() == ["exhausted", "recovered"]


def test_format_names_python_and_log4j_patterns(tmp_path):
    """read(format="python:...") and format="log4j:..." build the spec from the pattern."""
    from timeline.sources import read

    py = tmp_path / "py.log"
    py.write_text("2024-08-12 14:16:04,512 ERROR    app.db: down\n")
    java = tmp_path / "java.log"
    java.write_text("2024-08-12 14:16:04,512 [main] WARN  com.example.Pool - slow\n")
    table = read(
        [py, java],
        format={"*py.log": "python:%(asctime)s %(levelname)-8s %(name)s: %(message)s", "*java.log": "log4j:%d [%t] %-5p %c - %m%n"},
        quiet=True,
    )
    assert sorted(table.df["level"].to_list()) == ["error", "warning"]
    assert {a.format for a in table.account} == {"python_custom", "log4j_custom"}
