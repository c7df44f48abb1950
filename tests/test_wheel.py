"""The wheel: built from the checkout, installed in a fresh virtual environment, it parses and
loads a sample with no file of the checkout in sight (its sql/ and data/ ship inside it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_installs_and_runs_on_its_own(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = dist.glob("gongkai-*.whl")
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True,
                   capture_output=True, timeout=600)
    # the dependencies come from this test's environment (not its editable gongkai: a plain path
    # line in a .pth file does not run that directory's own .pth hooks)
    fresh_site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     check=True, capture_output=True, text=True).stdout.strip())
    (fresh_site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    sample = work / "report.txt"
    shutil.copy(ROOT / "data" / "samples" / "000.txt", sample)
    where = subprocess.run([str(py), "-c", "import gongkai.paths as p, gongkai.transform.parse as t; "
                            "print(t.__file__); print(p.SQL_DIR); print(p.DATA_DIR)"],
                           check=True, capture_output=True, text=True, cwd=work).stdout.split()
    assert all(str(env_dir) in w for w in where), where
    exe = str(env_dir / "bin" / "gongkai")
    p = subprocess.run([exe, "parse", str(sample), "--json"], capture_output=True, text=True, cwd=work, timeout=120)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result["status"] == "ok" and len(result["cells"]) == 200
    p = subprocess.run([exe, "load", str(sample), "--data-dir", "d"], capture_output=True, text=True, cwd=work,
                       timeout=120)
    assert p.returncode == 0 and "1 new" in p.stdout, p.stderr
    p = subprocess.run([exe, "query", "SELECT count(*) AS n FROM v_cells", "--data-dir", "d", "--format", "csv"],
                       capture_output=True, text=True, cwd=work, timeout=120)
    assert p.stdout.split() == ["n", "200"], p.stderr
