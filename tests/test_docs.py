"""The docs live in the project and match the code: generated pages are current, and every
file the README and the docs link or name exists."""

from __future__ import annotations

import re
from pathlib import Path

from gongkai.devtools.docgen import pages

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_generated_pages_are_current():
    stale = [p.relative_to(ROOT).as_posix() for p, text in pages().items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"{stale} drifted from the code: run python -m gongkai.devtools.docgen"


def test_the_cli_reference_has_every_command():
    from gongkai.flows.cli import app

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    names = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]
    assert names and all(f"## gongkai {n}\n" in text for n in names)


def test_every_linked_file_exists():
    missing = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"^[a-z]+://", target):
                continue
            if not (doc.parent / target).exists():
                missing.append(f"{doc.name} → {target}")
        for named in re.findall(r"`((?:docs|sql|data|tests|transform|extract|flows|devtools|bench)/[\w./-]*)`", text):
            if "*" not in named and not (ROOT / named).exists():
                missing.append(f"{doc.name} names {named}")
    assert not missing, missing


def test_no_doc_points_outside_the_repository():
    for doc in DOCS:
        assert "shared/spec" not in doc.read_text(encoding="utf-8"), doc.name
