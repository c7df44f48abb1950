"""The raw archive: bodies appended to packs, found again by any process, damage reported and
never returned, the older one-file-per-body layout still read."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongkai.extract.archive import PACKS_DIR, ArchiveError, IndexEntry, RawArchive


def _packs(root: Path) -> list[Path]:
    return sorted((root / PACKS_DIR).glob("*.pack"))


def _record(body: bytes) -> bytes:
    return b"gongkai-body %s %d\n" % (hashlib.sha256(body).hexdigest().encode(), len(body)) + body + b"\n"


def _written_elsewhere(root: Path, bodies: list[bytes], name: str = "20261204T000000-elsewhere.pack") -> Path:
    """A pack as another process writes it (the format the archive's docstring gives)."""
    (root / PACKS_DIR).mkdir(parents=True, exist_ok=True)
    pack = root / PACKS_DIR / name
    pack.write_bytes(b"".join(map(_record, bodies)))
    return pack


def test_bodies_are_stored_once_and_read_by_a_fresh_archive(tmp_path):
    a = RawArchive(tmp_path)
    bodies = [b"", b"one", "二".encode() * 1000, os.urandom(70_000)]
    shas = [a.put(b) for b in bodies]
    assert shas == [hashlib.sha256(b).hexdigest() for b in bodies]
    assert [a.put(b) for b in bodies] == shas  # stored already: nothing appended
    (pack,) = _packs(tmp_path)
    size = pack.stat().st_size
    assert size == sum(len(b"gongkai-body %s %d\n" % (s.encode(), len(b))) + len(b) + 1 for s, b in zip(shas, bodies))
    a.sync()
    b = RawArchive(tmp_path)
    assert [b.get(s) for s in shas] == bodies
    assert [b.stored_size(s) for s in shas] == [len(x) for x in bodies]
    assert b.put(bodies[2]) == shas[2] and _packs(tmp_path) == [pack] and pack.stat().st_size == size
    assert not b.has("0" * 64) and b.stored_size("0" * 64) is None
    with pytest.raises(ArchiveError, match="not in the raw archive"):
        b.get("0" * 64)


def test_each_writer_appends_to_a_pack_of_its_own_and_closing_begins_a_new_one(tmp_path):
    a, b = RawArchive(tmp_path), RawArchive(tmp_path)
    sa, sb = a.put(b"from a"), b.put(b"from b")
    assert len(_packs(tmp_path)) == 2
    a.close()
    sc = a.put(b"after closing")
    assert len(_packs(tmp_path)) == 3
    fresh = RawArchive(tmp_path)
    assert (fresh.get(sa), fresh.get(sb), fresh.get(sc)) == (b"from a", b"from b", b"after closing")


def test_a_body_another_process_is_writing_is_found_when_it_is_whole(tmp_path):
    reader = RawArchive(tmp_path)
    with pytest.raises(ArchiveError):
        reader.get(hashlib.sha256(b"later").hexdigest())
    script = textwrap.dedent(f"""
        from pathlib import Path
        from gongkai.extract.archive import RawArchive
        a = RawArchive(Path({str(tmp_path)!r}))
        a.put(b"later"); a.sync()
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    assert reader.get(hashlib.sha256(b"later").hexdigest()) == b"later"  # the miss looked again


def test_a_record_cut_short_by_a_power_cut_is_no_body_and_the_others_are_read(tmp_path, caplog):
    whole, cut = b"whole body", b"a body the power cut ended" * 10
    full = _written_elsewhere(tmp_path / "full", [whole, cut]).read_bytes()
    for n, keep in enumerate((len(full) - 1, len(full) - 200, full.rindex(b"gongkai-body") + 7)):  # body, header cut
        pack = _written_elsewhere(tmp_path / str(n), [whole, cut])
        pack.write_bytes(full[:keep])
        with caplog.at_level(logging.WARNING):
            a = RawArchive(tmp_path / str(n))
            assert a.get(hashlib.sha256(whole).hexdigest()) == whole
            with pytest.raises(ArchiveError, match="not in the raw archive"):
                a.get(hashlib.sha256(cut).hexdigest())
            assert a.put(cut) == hashlib.sha256(cut).hexdigest()  # stored again, in a pack of its own
        assert pack.read_bytes() == full[:keep]  # reported as missing, never "repaired"
        assert RawArchive(tmp_path / str(n)).get(hashlib.sha256(cut).hexdigest()) == cut
    assert not [r for r in caplog.records if "damaged" in r.getMessage()]  # an unfinished tail is no damage


def test_bytes_that_are_no_record_are_reported_skipped_and_left_alone(tmp_path, caplog):
    bodies = [f"body {i}".encode() * 50 for i in range(5)]
    shas = [hashlib.sha256(b).hexdigest() for b in bodies]
    pack = _written_elsewhere(tmp_path, bodies)
    data = bytearray(pack.read_bytes())
    at = data.index(b"gongkai-body " + shas[2].encode())
    data[at:at + 20] = b"\x00" * 20  # the third record's header overwritten
    pack.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        a = RawArchive(tmp_path)
        assert [a.verify(s) for s in shas] == [True, True, False, True, True]
    assert any("is damaged" in r.getMessage() and pack.name in r.getMessage() for r in caplog.records)
    assert pack.read_bytes() == bytes(data)


def test_a_damaged_body_is_never_returned_and_storing_it_again_writes_a_whole_copy(tmp_path):
    a = RawArchive(tmp_path)
    body = b"<html>report</html>" * 20
    sha = a.put(body)
    a.close()
    (pack,) = _packs(tmp_path)
    pack.write_bytes(pack.read_bytes().replace(body, b"X" * len(body)))
    b = RawArchive(tmp_path)
    with pytest.raises(ArchiveError, match="damaged"):
        b.get(sha)
    assert b.put(body) == sha
    assert len(_packs(tmp_path)) == 2
    assert RawArchive(tmp_path).get(sha) == body  # the whole copy is found, the damaged one passed over


def test_the_older_layout_of_one_file_per_body_is_still_read(tmp_path):
    body = b"archived before packs"
    sha = hashlib.sha256(body).hexdigest()
    (tmp_path / sha[:2]).mkdir()
    (tmp_path / sha[:2] / sha).write_bytes(body)
    a = RawArchive(tmp_path)
    assert a.has(sha) and a.get(sha) == body and a.stored_size(sha) == len(body)
    assert a.put(body) == sha and not _packs(tmp_path)  # stored already
    (tmp_path / sha[:2] / sha).write_bytes(b"")
    with pytest.raises(ArchiveError, match="damaged"):
        RawArchive(tmp_path).get(sha)


def test_the_index_is_written_after_the_bodies_it_names_are_on_disk(tmp_path, monkeypatch):
    flushed: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    a = RawArchive(tmp_path)
    sha = a.put(b"body")
    assert flushed == []  # appending costs no flush of its own
    a.record([IndexEntry(sha256=sha, url="http://x.gov.cn/a.html", kind="report")])
    pack = str(_packs(tmp_path)[0])
    assert flushed.index(pack) < flushed.index(str(tmp_path / PACKS_DIR)) < flushed.index(str(a.index_path))
    flushed.clear()
    a.record([IndexEntry(sha256=sha, url="http://x.gov.cn/b.html", kind="report")])
    assert flushed == [str(a.index_path)]  # nothing new to flush in the pack


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(st.binary(max_size=300), min_size=1, max_size=8),
       cut=st.integers(min_value=0), noise=st.binary(min_size=1, max_size=40), at=st.integers(min_value=0))
def test_a_pack_however_damaged_never_gives_wrong_bytes(tmp_path_factory, bodies, cut, noise, at):
    """Fuzzing the reader: a pack cut anywhere and overwritten anywhere gives each body whole or
    an ArchiveError, nothing else."""
    root = tmp_path_factory.mktemp("fuzz")
    pack = _written_elsewhere(root, bodies)
    shas = [hashlib.sha256(b).hexdigest() for b in bodies]
    data = bytearray(pack.read_bytes())
    data = data[:cut % (len(data) + 1)]
    intact = len(data)  # records wholly before the cut and the noise must still be read
    if data:
        i = at % len(data)
        data[i:i + len(noise)] = noise
        intact = i
    pack.write_bytes(bytes(data))
    fresh = RawArchive(root)
    end = 0
    for sha, body in zip(shas, bodies):
        end += len(_record(body))
        if end <= intact:
            assert fresh.get(sha) == body
            continue
        try:
            got = fresh.get(sha)
        except ArchiveError:
            continue
        assert got == body


def test_a_write_the_disk_refuses_leaves_no_half_record(tmp_path):
    """A full disk, as the kernel reports it (a file-size limit: EFBIG): the body is not stored,
    the error says so, and the pack holds only whole records."""
    script = textwrap.dedent(f"""
        import resource, signal
        from pathlib import Path
        from gongkai.extract.archive import ArchiveError, RawArchive
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))
        a = RawArchive(Path({str(tmp_path)!r}))
        a.put(b"a" * 600)
        try:
            a.put(b"b" * 600)
        except ArchiveError as exc:
            print("refused:", exc)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, hard))
        a.put(b"c" * 600)  # room again: a new pack
        a.sync()
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "refused: cannot write to the raw archive" in out
    assert sorted(p.read_bytes() for p in _packs(tmp_path)) == sorted([_record(b"a" * 600), _record(b"c" * 600)])
    a = RawArchive(tmp_path)
    assert a.get(hashlib.sha256(b"a" * 600).hexdigest()) == b"a" * 600
    assert a.get(hashlib.sha256(b"c" * 600).hexdigest()) == b"c" * 600
    assert not a.has(hashlib.sha256(b"b" * 600).hexdigest())


def test_a_forked_process_stores_in_a_pack_of_its_own(tmp_path):
    import multiprocessing

    a = RawArchive(tmp_path)
    parent = a.put(b"the parent's")

    def child() -> None:
        a.put(b"the child's")
        a.sync()

    p = multiprocessing.get_context("fork").Process(target=child)
    p.start()
    p.join(30)
    assert p.exitcode == 0
    mine = a.put(b"the parent's again")
    a.sync()
    assert len(_packs(tmp_path)) == 2
    fresh = RawArchive(tmp_path)
    assert fresh.get(parent) == b"the parent's" and fresh.get(mine) == b"the parent's again"
    assert fresh.get(hashlib.sha256(b"the child's").hexdigest()) == b"the child's"
