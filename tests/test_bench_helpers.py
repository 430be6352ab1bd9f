"""The benchmarks' own helpers (bench/), which no other test runs: the /proc readings that split a measurement's
CPU between processes, how a response's body and a workbook's cells are counted, and the table that puts the
two databases side by side. The suites themselves are run by `scripts/bench`."""
from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys

import xlsxwriter

from bench import Result, procfs
from bench.__main__ import _compare_databases, format_table
from bench.suites.concurrency import MEASURE, RATIO, SUITE as CONCURRENCY, CpuMeter, turn_about
from bench.suites.pages import Served, decoding_ms
from bench.suites.workbooks import cells_of, cells_written, xlsxwriter_same_cells

LINUX = os.path.isdir("/proc/self")
#: Above Linux's largest possible process id (2**22), so never a running process.
NO_SUCH_PID = 2**22 + 1


def test_cpu_seconds_of_this_process_and_of_none():
    if LINUX:
        assert procfs.cpu_seconds(os.getpid()) >= 0
    else:
        assert procfs.cpu_seconds(os.getpid()) is None
    assert procfs.cpu_seconds(NO_SUCH_PID) is None


def test_processes_lists_this_one_with_its_parent():
    found = {pid: (parent, command) for pid, parent, command in procfs.processes()}
    if not LINUX:
        assert found == {}
        return
    parent, command = found[os.getpid()]
    assert parent == os.getppid()
    assert "python" in command.lower() or "pytest" in command.lower()


def test_cpu_meter_counts_a_child_that_works_while_it_runs():
    """A child started after start() counts from zero; the figure is its CPU, not the wall time."""
    meter = CpuMeter(os.getpid(), None)
    meter.start()
    burn = ("import time\nstarted = time.process_time()\nwhile time.process_time() - started < 0.2:\n    pass\n"
            "print('done', flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", burn], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "done"
        spent = meter.stop()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert set(spent) == {"web workers", "database server", "clients"}
    assert spent["database server"] == 0
    assert spent["clients"] >= 0
    if LINUX:
        assert 0.15 <= spent["web workers"] < 30
    else:
        assert spent["web workers"] == 0


def test_served_url_is_the_url_with_the_master_pid():
    url = Served("http://127.0.0.1:8000", 1234)
    assert url == "http://127.0.0.1:8000" and url + "/x" == "http://127.0.0.1:8000/x"
    assert url.pid == 1234


def test_decoding_is_timed_only_for_gzip():
    body = gzip.compress(b"<tr><td>An action</td></tr>" * 2000)
    assert decoding_ms(body, "gzip") > 0
    assert decoding_ms(body, "") == 0
    assert decoding_ms(b"plain", "br") == 0


def test_cells_written_counts_every_cell_blanks_with_a_format_included():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    bordered = workbook.add_format({"border": 1})
    first, second = workbook.add_worksheet("One"), workbook.add_worksheet("Two")
    first.write_string(0, 0, "a")
    first.write_number(0, 1, 2)
    first.write_blank(1, 0, None, bordered)
    first.write_blank(1, 1, None)  # no format: XlsxWriter writes no cell
    second.write_string(0, 0, "<c is not a cell")
    workbook.close()
    assert cells_written(buffer.getvalue()) == 4


def test_the_like_for_like_yardstick_writes_the_same_cells_as_the_file_it_copies(tmp_path):
    import datetime as dt

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    bordered = workbook.add_format({"border": 1})
    dated = workbook.add_format({"border": 1, "num_format": "d mmm yyyy"})
    first, second = workbook.add_worksheet("One"), workbook.add_worksheet("Two")
    first.write_string(0, 0, "a", bordered)
    first.write_number(0, 1, 2.5)
    first.write_datetime(1, 0, dt.datetime(2024, 2, 29), dated)
    first.write_blank(1, 1, None, bordered)
    second.write_string(2, 3, "=1+1")  # text, never a formula
    workbook.close()
    sheets = cells_of(buffer.getvalue())
    assert [name for name, _cells in sheets] == ["One", "Two"]
    one = {(row, col): value for row, col, value, _style in sheets[0][1]}
    assert one == {(0, 0): "a", (0, 1): 2.5, (1, 0): 45351, (1, 1): None}  # 29 February 2024 as Excel's day
    assert [(row, col, value) for row, col, value, _style in sheets[1][1]] == [(2, 3, "=1+1")]
    copy = tmp_path / "copy.xlsx"
    xlsxwriter_same_cells(sheets, copy)
    assert cells_written(copy.read_bytes()) == cells_written(buffer.getvalue()) == 5
    assert cells_of(copy.read_bytes())[1][1][0][2] == "=1+1"


def test_table_puts_the_databases_side_by_side():
    results = {
        "SQLite": [Result("Pages", "static file", 1.5, "ms", "200 requests"),
                   Result(CONCURRENCY, MEASURE, 400, "updates/s", "SQLite note")],
        "PostgreSQL": [Result("Pages", "static file", 1.6, "ms", "200 requests"),
                       Result(CONCURRENCY, MEASURE, 300, "updates/s", "PostgreSQL note"),
                       Result("Imports", "diagnostic", 0.2, "s", "", single=True),
                       Result("Imports", "left out on SQLite", 0.3, "s", "")],
    }
    _compare_databases(results)
    table = format_table(results).splitlines()
    assert table[0] == "| suite | measure | SQLite | PostgreSQL | unit | note |"
    assert "| Pages | static file | 1.5 | 1.6 | ms | 200 requests |" in table
    assert (f"| {CONCURRENCY} | {MEASURE} | 400 | 300 | updates/s | "
            "SQLite: SQLite note; PostgreSQL: PostgreSQL note |") in table
    assert "| Imports | diagnostic | n/a | 0.2 | s |  |" in table
    assert "| Imports | left out on SQLite | not measured | 0.3 | s |  |" in table
    ratio = [line for line in table if "PostgreSQL / SQLite writing throughput" in line]
    assert ratio == [f"| {CONCURRENCY} | PostgreSQL / SQLite writing throughput | n/a | 0.75 | x | "
                     "target at least 0.8x: NOT met; the two phases' runs, minutes apart |"]


def test_the_ratio_row_needs_both_databases():
    results = {"SQLite": [Result(CONCURRENCY, MEASURE, 400, "updates/s")]}
    _compare_databases(results)
    assert [r.name for r in results["SQLite"]] == [MEASURE]
    assert format_table(results).count("\n") == 2


def test_the_ratio_taken_turn_about_is_the_median_round_and_wins_over_the_phases_runs():
    row = turn_about({"SQLite": [400.0, 380.0, 390.0], "PostgreSQL": [300.0, 310.0, 330.0]}, 0, 20.0)
    assert row.name == RATIO and row.single
    assert row.value == 310 / 380  # the rounds' ratios are 0.75, 0.816 and 0.846
    assert row.note.startswith("target at least 0.8x: met; the median of 3 rounds taken turn about, 20 s")
    assert "400 and 300 updates/s, 0.75; 380 and 310 updates/s, 0.82; 390 and 330 updates/s, 0.85" in row.note
    assert row.note.endswith("errors 0")
    # With that row in the PostgreSQL phase's results, the two phases' own runs are not divided as well.
    results = {"SQLite": [Result(CONCURRENCY, MEASURE, 400, "updates/s")],
               "PostgreSQL": [Result(CONCURRENCY, MEASURE, 200, "updates/s"), row]}
    _compare_databases(results)
    assert [r.value for r in results["PostgreSQL"] if r.name == RATIO] == [310 / 380]
    assert turn_about({"SQLite": [0.0], "PostgreSQL": [5.0]}, 2, 5.0).note.endswith("errors 2")
