"""Every mistake in a sources file is one line naming the entry, the field and the fix."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gongkai.extract.sources import SourceError, parse_sources

OK = 'name = "a"\nfamily = "generic"\nstart_urls = ["https://a.gov.cn/nb/"]\n'


@pytest.mark.parametrize("text,words", [
    ('[[sources]]\n' + OK, ["unknown table [sources]", "did you mean [[source]]"]),
    ('[[source]]\nfamily = "generic"\nstart_urls = ["https://a.gov.cn/"]\n', ["source #1", "'name' is missing"]),
    ('[[source]]\nname = "a"\nstart_urls = ["https://a.gov.cn/"]\n', ["('a')", "'family' is missing"]),
    ('[[source]]\n' + OK + 'famly = "trs"\n', ["('a')", "'famly'", "did you mean 'family'"]),
    ('[[source]]\nname = "a"\nfamily = "hanwb"\nstart_urls = ["https://a.gov.cn/"]\n', ["'family'", "'hanweb'"]),
    ('[[source]]\n' + OK + 'allowed_hosts = ["b.gov.cn"]\n', ["'allowed_hosts'", "leaves out", "a.gov.cn"]),
    ('[[source]]\nname = "a"\nfamily = "generic"\nstart_urls = "https://a.gov.cn/"\n', ["'start_urls'", "a list"]),
    ('[[source]]\n' + OK + 'max_pages = "5"\n', ["'max_pages'", "number"]),
    ('[[source]]\n' + OK + 'years = [2025, 2019]\n', ["'years'", "[first, last]"]),
    ('[[source]]\n' + OK + '[[source]]\n' + OK, ["two entries are named 'a'"]),
    ('[[source]]\nname = "A b"\nfamily = "generic"\nstart_urls = ["https://a.gov.cn/"]\n', ["'name'", "slug"]),
])
def test_each_mistake_names_the_entry_and_the_field(text, words):
    with pytest.raises(SourceError) as exc:
        parse_sources(text)
    message = str(exc.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_the_optional_note_field_is_accepted():
    (source,) = parse_sources("[[source]]\n" + OK + 'note = "the 2019 reports are attachments"\n')
    assert source.name == "a"


def test_a_sources_mistake_is_a_usage_error_in_every_command(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text("[[sources]]\n" + OK, encoding="utf-8")
    for command in ("crawl", "serve"):
        run = subprocess.run([sys.executable, "-m", "gongkai", command, "--sources", str(bad), "--data-dir",
                              str(tmp_path / "d")], capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and "unknown table [sources]" in run.stderr and "Traceback" not in run.stderr
