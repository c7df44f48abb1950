"""Nothing a user owns is ever lost: the export, the query, a damaged warehouse, the CLI from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from gongkai.flows.exporter import ExportError, export
from gongkai.flows.integrity import WarehouseDamaged, active_header, check_file
from gongkai.flows.loader import Incoming, Loader
from gongkai.flows.warehouse import open_warehouse, warehouse_path
from gongkai.transform.parse import parse_report
from tests.conftest import REAL

GONGKAI = str(Path(sys.executable).parent / "gongkai")
REPORTS = [REAL / "000.txt", REAL / "047.html", REAL / "001.html", REAL / "046.html"]


def gk(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
       timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GONGKAI, *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd,
                          env=env, start_new_session=True)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("loaded") / "data"
    p = gk("load", *map(str, REPORTS), "--data-dir", str(data))
    assert p.returncode == 0, p.stderr
    return data


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- export ---------------------------------------------------------------------------------------------


@pytest.fixture
def con(loaded):
    c = open_warehouse(warehouse_path(loaded), read_only=True)
    yield c
    c.close()


def test_export_refuses_a_folder_of_the_users_files(con, tmp_path):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.docx").write_bytes(b"my work")
    (thesis / "data").mkdir()
    (thesis / "data" / "notes.csv").write_text("a,b\n", encoding="utf-8")
    before = tree(thesis)
    with pytest.raises(ExportError, match="folder of other files, not a gongkai export") as exc:
        export(con, thesis)
    assert str(thesis) in str(exc.value)
    assert tree(thesis) == before
    assert [p.name for p in tmp_path.iterdir()] == ["thesis"]  # no temporary folder left either


def test_export_refuses_the_data_directory_around_and_inside_it(con, loaded, tmp_path):
    for target, why in ((loaded, "is the data directory or holds it"),
                        (loaded.parent, "is the data directory or holds it"),
                        (loaded / "archive", "inside the data directory"),
                        (loaded / "new-folder", "inside the data directory")):
        before = tree(loaded)
        with pytest.raises(ExportError, match=why):
            export(con, target, data_dir=loaded)
        assert tree(loaded) == before


def test_export_refuses_root_home_cwd_files_and_links(con, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(ExportError, match="filesystem root"):
        export(con, Path("/"))
    with pytest.raises(ExportError, match="home folder"):
        export(con, home)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(ExportError, match="current folder"):
        export(con, Path("."))
    with pytest.raises(ExportError, match="current folder"):
        export(con, tmp_path)
    afile = tmp_path / "file.txt"
    afile.write_text("keep", encoding="utf-8")
    with pytest.raises(ExportError, match="is a file"):
        export(con, afile)
    assert afile.read_text(encoding="utf-8") == "keep"
    link = tmp_path / "link"
    link.symlink_to(work)
    with pytest.raises(ExportError, match="symbolic link"):
        export(con, link)


def test_export_replaces_only_its_own_previous_export(con, tmp_path):
    out = tmp_path / "export"
    out.mkdir()  # an empty folder is fine
    export(con, out)
    first = tree(out)
    export(con, out, "csv")  # a previous export is replaced
    assert "reports.csv" in tree(out) and "reports.parquet" not in tree(out) and tree(out) != first
    (out / "my-analysis.R").write_text("library(arrow)", encoding="utf-8")
    before = tree(out)
    with pytest.raises(ExportError, match=r"holds files the export did not write \(my-analysis.R\)"):
        export(con, out)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_export_command_refuses_in_one_line(loaded, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine", encoding="utf-8")
    p = gk("export", "--out", str(mine), "--data-dir", str(loaded))
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "refusing to export" in p.stderr
    assert (mine / "keep.txt").read_text(encoding="utf-8") == "mine"
    p = gk("export", "--out", str(loaded), "--data-dir", str(loaded))
    assert p.returncode == 1 and "data directory" in p.stderr
    assert warehouse_path(loaded).exists()


# -- query ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sql,message", [
    ("COPY (SELECT * FROM cell) TO '{tmp}/victim.csv'", "not COPY"),
    ("ATTACH '{tmp}/other.duckdb' AS w (READ_WRITE)", "not ATTACH"),
    ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
    ("SELECT * FROM read_text('/etc/passwd')", "file system operations are disabled"),
    ("SELECT * FROM '{tmp}/victim.csv'", "file system operations are disabled"),
    ("SELECT * FROM glob('/etc/*')", "file system operations are disabled"),
    ("INSTALL httpfs", "not LOAD"),
    ("LOAD httpfs", "not LOAD"),
    ("SET enable_external_access = true", "not SET"),
    ("DELETE FROM cell", "not DELETE"),
    ("DROP TABLE cell", "not DROP"),
    ("CREATE TEMP TABLE t AS SELECT 1", "not CREATE"),
    ("SELECT 1; DELETE FROM cell", "2 statements"),
    ("", "the query is empty"),
    ("   ", "the query is empty"),
    ("-- comment", "holds no statement"),
    ("SELEC 1", "does not parse"),
])
def test_query_reads_the_warehouse_and_nothing_else(loaded, tmp_path, sql, message):
    victim = tmp_path / "victim.csv"
    victim.write_text("precious\n", encoding="utf-8")
    other = duckdb.connect(str(tmp_path / "other.duckdb"))
    other.execute("CREATE TABLE t AS SELECT 42 AS x")
    other.close()
    before = warehouse_path(loaded).read_bytes()
    p = gk("query", sql.format(tmp=tmp_path), "--data-dir", str(loaded))
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert message in p.stderr and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert duckdb.connect(str(tmp_path / "other.duckdb"), read_only=True).execute("SELECT x FROM t").fetchall() == [(42,)]
    assert warehouse_path(loaded).read_bytes() == before


def test_query_still_answers_reads(loaded):
    p = gk("query", "SELECT count(*) AS n FROM v_current_report", "--data-dir", str(loaded), "--format", "csv")
    assert p.returncode == 0 and p.stdout.splitlines() == ["n", str(len(REPORTS))]
    p = gk("query", "DESCRIBE v_cells", "--data-dir", str(loaded))
    assert p.returncode == 0 and "table_code" in p.stdout
    p = gk("query", "-- the applications\nSELECT 1 AS one", "--data-dir", str(loaded), "--format", "csv")
    assert p.returncode == 0 and p.stdout.splitlines() == ["one", "1"]


# -- a damaged warehouse ---------------------------------------------------------------------------------


def test_a_file_whose_free_tail_duckdb_cut_off_is_whole(tmp_path):
    """A checkpoint cuts free blocks off the end while the header still counts them: whole."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE keep AS SELECT range AS i FROM range(1000)")
    con.execute("CHECKPOINT")
    con.execute("CREATE TABLE big AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(2000000)")
    con.execute("CHECKPOINT")
    con.execute("DROP TABLE big")
    con.execute("CHECKPOINT")
    con.close()
    _, blocks, block_size = active_header(path.read_bytes()[:12288])
    assert path.stat().st_size < 12288 + blocks * block_size  # shorter than the header says
    check_file(path)  # and yet whole
    with duckdb.connect(str(path), read_only=True) as again:
        assert again.execute("SELECT sum(i) FROM keep").fetchone() == (499500,)


def test_a_truncated_warehouse_is_detected_and_never_written_then_rebuilt(loaded, tmp_path):
    data = tmp_path / "copy"
    shutil.copytree(loaded, data)
    path = warehouse_path(data)
    good = warehouse_path(loaded)
    original = duckdb.connect(str(good), read_only=True).execute(
        "SELECT agency, year, table_code, row_code, col_code, value FROM v_cells ORDER BY ALL").fetchall()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # a copy cut short mid-file
    with pytest.raises(WarehouseDamaged):
        check_file(path)
    damaged = path.read_bytes()
    for args in (["stats"], ["query", "SELECT count(*) FROM cell"], ["load", str(REAL / "051.html")],
                 ["export", "--out", str(tmp_path / "e")]):
        p = gk(*args, "--data-dir", str(data))
        assert p.returncode == 1, (args, p.stdout, p.stderr)
        assert "is damaged" in p.stderr and "gongkai reparse --rebuild" in p.stderr, p.stderr
        assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
        assert path.read_bytes() == damaged  # never written, never grown
    p = gk("reparse", "--rebuild", "--data-dir", str(data), env={**os.environ, "PREFECT_HOME": str(tmp_path / "ph")})
    assert p.returncode == 0, p.stderr[-3000:]
    assert "damaged" in p.stdout
    kept = [f for f in data.iterdir() if f.name.startswith("warehouse.duckdb.damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # kept aside, as it was
    rebuilt = duckdb.connect(str(path), read_only=True)
    assert rebuilt.execute("SELECT agency, year, table_code, row_code, col_code, value FROM v_cells "
                           "ORDER BY ALL").fetchall() == original
    assert rebuilt.execute("SELECT count(*) FROM fetch_log").fetchall() == [(0,)]  # local loads: no fetches
    rebuilt.close()
    p = gk("stats", "--data-dir", str(data))
    assert p.returncode == 0 and "all pass" in p.stdout


def test_a_corrupt_block_is_found_before_writing(tmp_path):
    path = tmp_path / "w.duckdb"
    con = open_warehouse(path)
    Loader(con).load([Incoming(parse_report(p.read_bytes(), str(p))) for p in REPORTS] * 1)
    con.execute("CREATE TABLE filler AS SELECT range AS x, md5(range::varchar) AS s FROM range(300000)")
    con.close()
    data = bytearray(path.read_bytes())
    data[len(data) * 2 // 3] ^= 0xFF  # one flipped byte in a data block
    path.write_bytes(bytes(data))
    for stamp in tmp_path.glob("*.verified"):
        stamp.unlink()
    with pytest.raises(WarehouseDamaged, match="reparse --rebuild"):
        open_warehouse(path)
    assert path.read_bytes() == bytes(data)


# -- the command line from any folder ----------------------------------------------------------------------


# demo and reparse from another folder, with a relative --data-dir: tests/test_readme_commands.py
# (its fixture runs the demo so, and checks where Prefect's state went)


def test_serve_errors_are_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    sources = tmp_path / "s.toml"
    sources.write_text('[[source]]\nname = "a"\nfamily = "trs"\nstart_urls = ["https://a.gov.cn/nb/"]\n',
                       encoding="utf-8")
    p = gk("serve", "--sources", str(sources), "--cron", "every night", "--data-dir", str(tmp_path / "d"), env=env)
    assert p.returncode == 2 and "not a cron expression" in p.stderr and p.stderr.count("\n") == 1
    p = gk("serve", "--sources", str(sources), "--data-dir", str(tmp_path / "d"), env=env)
    assert p.returncode == 1 and "prefect server start" in p.stderr and p.stderr.count("\n") == 1
    p = gk("serve", "--sources", str(sources), "--data-dir", str(tmp_path / "d"),
           env={**env, "PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert p.returncode == 1 and "no Prefect server answers" in p.stderr
