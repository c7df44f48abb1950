from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

# Prefect runs without a server in tests: its state in a throwaway folder, quiet, no analytics.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="gongkai-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)

import pytest

from gongkai.transform.models import ParseResult
from gongkai.transform.parse import parse_report

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"


def libreoffice_convert(inputs: list[Path], target: str, outdir: Path, profile: Path, *,
                        infilter: str | None = "HTML (StarWriter)", timeout: float = 300) -> None:
    """Files converted by LibreOffice headless (``target`` as ``--convert-to`` takes it), in a
    profile folder of the test's own; .ci/run installs LibreOffice (Writer and Calc)."""
    import subprocess

    from gongkai.transform.filekinds import soffice

    command = soffice()
    assert command, "LibreOffice is needed for these tests (.ci/run installs libreoffice-writer-nogui)"
    subprocess.run([command, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    *([f"--infilter={infilter}"] if infilter else []), "--convert-to", target,
                    "--outdir", str(outdir), *map(str, inputs)], check=True, capture_output=True, timeout=timeout)


def corpus(glued: bool) -> list[Path]:
    """The dev corpus's expected-value files: the glued-digit texts, or all the others."""
    return [p for p in sorted(REAL.glob("*.expected.json"))
            if (json.loads(p.read_text(encoding="utf-8"))["source_form"] == "text-glued") == glued]


def parse_expected(expected_path: Path) -> tuple[dict, ParseResult]:
    """The expected values of a corpus report, and what the parser makes of its file."""
    exp = json.loads(expected_path.read_text(encoding="utf-8"))
    source = REAL / exp["file"]
    result = parse_report(source.read_bytes(), str(source))
    assert result.year == exp["year"]
    assert "".join((result.agency or "").split()) == "".join(exp["agency"].split())
    if exp["layout"] is not None:
        assert result.layout == exp["layout"]
    return exp, result


def cells_of(result: ParseResult) -> dict[tuple[str, str, str], float]:
    return {(c.table, c.row, c.col): c.value for c in result.cells}


@pytest.fixture
def parse():
    def _parse(data: bytes | str, source: str = "report.html") -> ParseResult:
        if isinstance(data, str):
            data = data.encode("utf-8")
        return parse_report(data, source)

    return _parse


class FuzzStats:
    """How many fuzz cases ran and the slowest input (printed at the end of the run)."""

    def __init__(self) -> None:
        self.cases = 0
        self.slowest = (0.0, "")

    def record(self, seconds: float, what: str) -> None:
        self.cases += 1
        if seconds > self.slowest[0]:
            self.slowest = (seconds, what)


FUZZ_STATS = FuzzStats()
FUZZ_EXAMPLES = int(os.environ.get("GONGKAI_FUZZ_EXAMPLES", "60"))  # per fuzz test; `make fuzz` raises it


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if FUZZ_STATS.cases:
        seconds, what = FUZZ_STATS.slowest
        terminalreporter.write_line(f"fuzz: {FUZZ_STATS.cases} cases run; slowest {seconds:.2f} s ({what})")
