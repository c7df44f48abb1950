"""The README's layout section matches the repository: every top-level folder and module it
names exists, and every top-level folder of the project is in it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORED = {".git", ".venv", "build", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache",
           ".prefect"}


def _layout_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1]
    return section.split("```", 2)[1]


def test_every_top_level_folder_is_in_the_tree_and_the_tree_exists():
    block = _layout_block()
    named = set(re.findall(r"^([a-z.][\w.]*)/", block, re.MULTILINE))
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in IGNORED
               and not p.name.endswith(".egg-info")}
    assert folders - {".ci"} <= named, folders - named
    assert all((ROOT / name).is_dir() for name in named), named


def test_the_modules_the_tree_names_exist():
    block = _layout_block()
    for line in block.splitlines():
        m = re.match(r"^([a-z]\w*)/\s", line)
        if m:
            folder = m.group(1)
        elif not line.startswith(" "):
            continue
        for module in re.findall(r"\b(\w+\.py)\b", line):
            hits = list(ROOT.glob(f"*/{module}")) + list(ROOT.glob(f"*/*/{module}"))
            assert hits, f"{module} ({folder}/) named in the README does not exist"
