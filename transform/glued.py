"""Reports whose table cells lost their separators: ``…申请数量640020470`` is seven numbers.

Two steps:

1. :func:`unglue_lines` separates labels from digit runs inside the statistical part of a
   text (``规章000行政规范性文件417`` → ``规章 000 行政规范性文件 417``). A digit right before
   ``.`` and a Chinese character is the ordinal of the next label (``00000002.其他法律…``).
2. The solvers split each run into the number of cells its row needs (no leading zeros
   except a lone 0) so that the table's own arithmetic holds: row totals, the results sum,
   the balance, table 四's totals. Spaces that survived are certain separators. Among all
   splits, those violating the fewest rules win; a cell is certain only when every winner
   agrees on it — otherwise it is reported as ambiguous, never guessed.

>>> unglue_lines(["第二十条第（一）项信息内容本年制发件数规章000行政规范性文件417"])
['第二十条第（一）项信息内容本年制发件数规章 000 行政规范性文件 417 ']
>>> unglue_lines(["勾稽关系）（三）不予公开1.属于国家秘密00000002.其他法律行政法规禁止公开0000000"])
['勾稽关系）', '（三）不予公开', '1.属于国家秘密 0000000 ', '2.其他法律行政法规禁止公开 0000000 ']
>>> sorted(row_splits(["640020470"], 7, row_total=True))
[(64, 0, 0, 2, 0, 4, 70)]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from gongkai.transform.codebook import T4_COLUMNS
from gongkai.transform.numbers import nfkc

_START_MARKS = ("第二十条第（一）项", "第二十条第(一)项", "第二十条第", "勾稽关系", "本年新收政府信息公开申请数量")
_END_MARKS = ("存在的主要问题", "其他需要报告的事项")
# A digit run, with the minus sign printed before it (本年增/减 of the 2019 layout: "35-15" is
# 35 and −15); an em dash is not a sign (it prints a blank cell).
_RUN_RE = re.compile(r"[-－−]?[0-9０-９]+(?:[.．][0-9０-９]+)?(?:万元|元|个|件|项)?")
_ORDINAL_NEXT_RE = re.compile(r"[.．、][^0-9０-９]")
_YEAR_NEXT_RE = re.compile(r"年")
# Where a row label begins (so that rows printed blank stay rows of their own).
_ROW_START_RE = re.compile(r"(?<!第)[（(][一二三四五六七八][)）]|(?<![第一二三四五六七八九十])[一二三四五][、]")
_YEAR_TAIL_RE = re.compile(r"(?:19|20)[0-9]{2}$")
_DIGITS_RE = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?(?:万元|元|个|件|项)?$")
_UNIT_RE = re.compile(r"(?:万元|元|个|件|项)$")

MAX_SPLITS = 5_000  # per row; beyond this a row is left ambiguous
MAX_COMBINATIONS = 300_000  # per table


def _unglue(segment: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _RUN_RE.finditer(segment):
        run = m.group(0)
        start, end = m.start(), m.end()
        label_head = ""
        if run[-1].isdigit() and _ORDINAL_NEXT_RE.match(segment, end) and "." not in run and "．" not in run:
            run, label_head = run[:-1], "\n" + run[-1]  # the ordinal of the next row's label
        elif _YEAR_NEXT_RE.match(segment, end) and _YEAR_TAIL_RE.search(run):
            # the table ran into a sentence that starts with a year: "…收费02025年…"
            run, label_head = run[:-4], run[-4:]
        out.append(_ROW_START_RE.sub("\n\\g<0>", segment[pos:start]))
        if run:
            out.append(f" {run} ")
        out.append(label_head)
        pos = end
    out.append(_ROW_START_RE.sub("\n\\g<0>", segment[pos:]))
    return "".join(out)


def unglue_lines(lines: Sequence[str]) -> list[str]:
    """Separate labels and digit runs between the start of table 二 (or 三) and the end of
    table 四; the narrative around the tables is left as it is."""
    out: list[str] = []
    inside = False
    for line in lines:
        norm_line = line
        start = 0
        if not inside:
            hits = [norm_line.find(m) for m in _START_MARKS if m in norm_line]
            if not hits:
                out.append(line)
                continue
            start = min(hits)
            inside = True
        ends = [norm_line.find(m, start) for m in _END_MARKS if m in norm_line[start:]]
        stop = min(ends) if ends else len(line)
        out.extend((line[:start] + _unglue(line[start:stop]) + line[stop:]).split("\n"))
        if ends:
            inside = False
    return out


def looks_glued(text: str) -> bool:
    """Whether table labels are directly followed by digit runs (worth an unglued read)."""
    return bool(re.search(r"(申请数量|予以公开|国家秘密|总计|继续办理|规章|规范性文件)\s?[0-9０-９]{3,}", text))


# -- splitting ---------------------------------------------------------------------------


def _valid(part: str, decimal_ok: bool) -> bool:
    if part.startswith("-"):  # a negative number: never −0, never a leading zero
        return len(part) > 1 and part[1] != "0" and _valid(part[1:], decimal_ok)
    if "." in part:
        if not decimal_ok:
            return False
        whole, _, frac = part.partition(".")
        return bool(whole) and bool(frac) and (whole == "0" or whole[0] != "0")
    return part == "0" or part[0] != "0"


def _num(part: str) -> int | float:
    return float(part) if "." in part else int(part)


def splits(
    groups: Sequence[str], k: int, decimal_cols: frozenset[int] = frozenset(),
    check: Callable[[list[str]], bool] | None = None,
) -> Iterator[tuple[int | float, ...]]:
    """Every way to cut the digit groups into ``k`` numbers (each group into at least one),
    with no leading zeros; a decimal point may only fall inside a column of ``decimal_cols``.
    ``check`` (called with the parts so far) prunes prefixes that already break a rule."""
    groups = [g for g in groups if g]
    total_len = sum(len(g) for g in groups)
    if not groups or k < len(groups) or total_len < k:
        return

    def rec(gi: int, pos: int, acc: list[str], left: int) -> Iterator[tuple[int | float, ...]]:
        # left: digits (characters) not yet consumed
        if gi == len(groups):
            if len(acc) == k:
                yield tuple(_num(p) for p in acc)
            return
        g = groups[gi]
        groups_after = len(groups) - gi - 1
        first = pos + 2 if g[pos] == "-" else pos + 1  # a sign belongs to the number it starts
        for end in range(first, len(g) + 1):
            part = g[pos:end]
            if part.endswith("."):
                continue
            col = len(acc)
            if not _valid(part, col in decimal_cols):
                if part[0] == "0" and "." not in part and len(part) > 1:
                    break
                continue
            n_after = len(acc) + 1
            rest = left - len(part)
            more_in_group = end < len(g)
            min_more = groups_after + (1 if more_in_group else 0)
            if n_after + min_more > k or n_after + rest < k:
                continue
            acc.append(part)
            if check is not None and not check(acc):
                acc.pop()
                continue
            if more_in_group:
                yield from rec(gi, end, acc, rest)
            else:
                yield from rec(gi + 1, 0, acc, rest)
            acc.pop()

    yield from rec(0, 0, [], total_len)


MAX_MERGED_SPACES = 6  # a row with more spaces than this is read with its spaces as separators only


def space_readings(groups: Sequence[str]) -> Iterator[list[str]]:
    """A space a text layer kept between digit groups is a candidate separator, not a fact: it
    may fall inside a number. Every reading with some of the spaces removed (the groups
    around them joined), the row as printed excluded."""
    n = len(groups) - 1
    if n < 1 or n > MAX_MERGED_SPACES:
        return
    for keep in itertools.product((True, False), repeat=n):
        if all(keep):
            continue
        out = [groups[0]]
        for g, separate in zip(groups[1:], keep):
            if separate or g.startswith("-"):  # a sign starts a number
                out.append(g)
            else:
                out[-1] += g
        yield out


MAX_BLANKS = 2  # a row printing fewer digits than cells: that many cells were blank (= 0)


def with_blanks(groups: Sequence[str], k: int, decimal_cols: frozenset[int] = frozenset()) -> Iterator[tuple[int | float, ...]]:
    """Splits into ``k`` numbers; when there are fewer digits than cells (up to MAX_BLANKS),
    the missing cells were printed blank and may be anywhere: each placement is a candidate."""
    digits = sum(len(g.replace(".", "").replace("-", "")) for g in groups)
    missing = k - digits
    if missing <= 0:
        yield from splits(groups, k, decimal_cols)
        return
    if missing > MAX_BLANKS:
        return
    seen: set[tuple[int | float, ...]] = set()
    for s in splits(groups, k - missing, decimal_cols):
        for where in itertools.combinations(range(k), missing):
            vals = list(s)
            for w in where:
                vals.insert(w, 0)
            t = tuple(vals)
            if t not in seen:
                seen.add(t)
                yield t


def _summing_to(groups: Sequence[str], k: int, total: int) -> Iterator[tuple[int, ...]]:
    """Integer splits of the groups into ``k`` numbers whose sum is ``total`` (depth-first,
    with the running sum: a part that overshoots ends its loop, since longer parts are larger)."""
    groups = [g for g in groups if g]
    if not groups:
        return
    suffix = [0] * (len(groups) + 1)  # digits in the groups after each one
    for i in range(len(groups) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + len(groups[i])
    acc: list[int] = []

    def rec(gi: int, pos: int, running: int) -> Iterator[tuple[int, ...]]:
        g = groups[gi]
        for end in range(pos + 1, len(g) + 1):
            if end - pos > 1 and g[pos] == "0":
                break
            value = int(g[pos:end])
            if running + value > total:
                break
            n = len(acc) + 1
            rest = len(g) - end + suffix[gi + 1]  # digits still to place
            more_groups = len(groups) - gi - 1 + (1 if end < len(g) else 0)
            if n + more_groups > k or n + rest < k:
                continue
            acc.append(value)
            if end < len(g):
                yield from rec(gi, end, running + value)
            elif gi + 1 < len(groups):
                yield from rec(gi + 1, 0, running + value)
            elif n == k and running + value == total:
                yield tuple(acc)
            acc.pop()

    yield from rec(0, 0, 0)


def _total_first(groups: Sequence[str], k: int) -> Iterator[tuple[int | float, ...]]:
    """Splits whose last number is the sum of the others: choose the total (a suffix of the
    last group) first, then split the rest into numbers adding up to it."""
    *head, last = [g for g in groups if g]
    for cut in range(len(last) - 1, -1, -1):
        tail = last[cut:]
        if not _valid(tail, False):
            continue
        total = int(tail)
        rest = [*head, last[:cut]] if cut else list(head)
        for s in _summing_to(rest, k - 1, total):
            yield (*s, total)


def row_splits(groups: Sequence[str], k: int, *, row_total: bool) -> list[tuple[int | float, ...]]:
    """Splits of one row; with ``row_total`` only those whose last number is the sum of the others."""
    digits = sum(len(g) for g in groups)
    if row_total and digits >= k:
        source = _total_first(groups, k)
    else:
        source = (s for s in with_blanks(groups, k) if not row_total or s[-1] == sum(s[:-1]))
    return list(itertools.islice(source, MAX_SPLITS + 1))


def digit_groups(texts: Sequence[str]) -> list[str] | None:
    """The digit groups of a row's printed cells, or None if a cell is not a plain digit run."""
    groups = []
    for t in texts:
        t = nfkc(t).replace(" ", "").replace("−", "-")
        if not t:
            continue
        if not _DIGITS_RE.match(t):
            return None
        groups.append(_UNIT_RE.sub("", t))
    return groups


# -- table solvers ----------------------------------------------------------------------------


@dataclass
class Solution:
    """The outcome of splitting a table: certain values per row, ambiguous cells, and
    how many rules the chosen splits break."""

    values: dict[str, list[int | float | None]] = field(default_factory=dict)  # None: ambiguous
    candidates: dict[str, list[tuple[int | float, ...]]] = field(default_factory=dict)
    violations: int = 0
    note: str = ""


def _agree(options: list[tuple[int | float, ...]], k: int) -> list[int | float | None]:
    return [options[0][i] if all(o[i] == options[0][i] for o in options) else None for i in range(k)]


def solve_t3(
    fixed: dict[str, tuple[int | float, ...]],
    glued: dict[str, list[str]],
    result_rows: Sequence[str],
) -> Solution:
    """Split the glued rows of table 三 (7 columns) against the table's rules."""
    sol = Solution()
    cands: dict[str, list[tuple[int | float, ...]]] = {}
    row_penalty: dict[str, int] = {}
    for code, groups in glued.items():
        good = row_splits(groups, 7, row_total=True)
        if len(groups) > 1:  # a space may fall inside a number: every reading of the spaces
            seen: set[tuple[int | float, ...]] = set(good)
            for variant in space_readings(groups):
                seen.update(row_splits(variant, 7, row_total=True))
            good = sorted(seen)[:MAX_SPLITS + 1]
        if good:
            cands[code], row_penalty[code] = good, 0
        else:  # the agency's own row total does not add up: every split breaks that rule
            cands[code], row_penalty[code] = row_splits(groups, 7, row_total=False), 1
    for code, options in cands.items():
        if not options or len(options) > MAX_SPLITS:
            sol.values[code] = [None] * 7
            sol.candidates[code] = options[:5]
    search = {c: o for c, o in cands.items() if c not in sol.values}
    order = sorted(search, key=lambda c: len(search[c]))
    n_comb = 1
    for c in order:
        n_comb *= len(search[c])
    if n_comb > MAX_COMBINATIONS:
        # too many to try together: keep what each row decides alone
        for c in order:
            sol.values[c] = _agree(search[c], 7)
            sol.candidates[c] = search[c][:5]
        sol.note = f"{n_comb} combinations: rows solved one by one"
        return sol

    # Every combination of the rows' candidates at once (numpy): count the broken column rules.
    arrays = [np.asarray(search[c], dtype=np.float64) for c in order]
    sizes = [len(a) for a in arrays]
    idx = np.indices(sizes).reshape(len(sizes), -1).T if sizes else np.zeros((1, 0), dtype=np.intp)
    n = idx.shape[0]

    def values(code: str) -> np.ndarray | None:
        if code in search:
            j = order.index(code)
            return arrays[j][idx[:, j]]
        if code in fixed:
            return np.broadcast_to(np.asarray(fixed[code], dtype=np.float64), (n, 7))
        return None

    broken = np.full(n, sum(row_penalty[c] for c in order), dtype=np.int64)
    total, parts = values("results_total"), [values(r) for r in result_rows]
    if total is not None and all(p is not None for p in parts):
        broken += (np.abs(total - sum(parts)) > 1e-9).sum(axis=1)  # type: ignore[arg-type]
    new, carried, fwd = values("new_received"), values("carried_over"), values("carried_forward")
    if total is not None and new is not None and carried is not None and fwd is not None:
        broken += (np.abs(new + carried - total - fwd) > 1e-9).sum(axis=1)
    best_v = int(broken.min())
    winners = idx[broken == best_v]
    sol.violations = best_v
    for j, c in enumerate(order):
        options = [search[c][i] for i in np.unique(winners[:, j])]
        sol.values[c] = _agree(options, 7)
        if len(options) > 1:
            sol.candidates[c] = options[:5]
    return sol


def _row_adds_up(row: Sequence[int | float], total_at: int) -> bool:
    return row[total_at] == sum(row) - row[total_at]


def _t4_rows_hold(total_at: int = 4) -> Callable[[list[str]], bool]:
    """Prefix check for table 四: each completed row of five has its total (at ``total_at``)
    equal to the sum of the other four."""
    def check(acc: list[str]) -> bool:
        if len(acc) % 5:
            return True
        return _row_adds_up([int(x) for x in acc[-5:]], total_at)
    return check


def solve_t4(groups: list[str], total_at: int = 4) -> Solution:
    """Split table 四's fifteen numbers (three rows of five results, the row's total at
    ``total_at`` of each five: last in the template)."""
    sol = Solution()
    hold = _t4_rows_hold(total_at)
    best = list(itertools.islice(splits(groups, 15, check=hold), MAX_COMBINATIONS + 1))
    if len(best) <= MAX_COMBINATIONS:  # a space may fall inside a number: every reading of the spaces
        seen: set[tuple[int | float, ...]] = set(best)
        for variant in space_readings(groups):
            seen.update(itertools.islice(splits(variant, 15, check=hold), MAX_COMBINATIONS + 1))
            if len(seen) > MAX_COMBINATIONS:
                break
        best = sorted(seen)
    best_v: int | None = 0 if best else None
    if len(best) > MAX_COMBINATIONS:  # not all seen: nothing can be called certain
        sol.values["t4"] = [None] * 15
        sol.note = "too many splits"
        return sol
    if not best:  # the printed totals do not add up: fewest broken rows wins
        for n, s in enumerate(with_blanks(groups, 15)):
            if n > MAX_COMBINATIONS:
                sol.values["t4"] = [None] * 15
                sol.note = "too many splits"
                return sol
            v = sum(not _row_adds_up(s[i:i + 5], total_at) for i in (0, 5, 10))
            if best_v is None or v < best_v:
                best_v, best = v, [s]
            elif v == best_v:
                best.append(s)
    if not best:
        sol.values["t4"] = [None] * 15
        return sol
    sol.violations = best_v or 0
    sol.values["t4"] = _agree(best, 15)
    if len(best) > 1:
        sol.candidates["t4"] = best[:5]
    return sol


def solve_t4_transposed(rows: dict[str, list[tuple[int | float, ...]] | list[str]]) -> Solution:
    """Table 四 printed with its results as rows (upheld, corrected, other, pending, total; three
    forums each): split each glued row (a row given as digit groups) so that, per forum, the
    total row is the sum of the other four; a row given as candidate tuples is fixed. A cell is
    certain only when every split satisfying the rules agrees on it."""
    sol = Solution()
    order = T4_COLUMNS  # the total row last
    cands: dict[str, list[tuple[int | float, ...]]] = {}
    for code in order:
        given = rows[code]
        if given and isinstance(given[0], tuple):
            cands[code] = list(given)  # type: ignore[arg-type]
            continue
        options = list(itertools.islice(with_blanks(given, 3), MAX_SPLITS + 1))  # type: ignore[arg-type]
        cands[code] = options if len(options) <= MAX_SPLITS else []
    n_comb = 1
    for code in order[:4]:
        n_comb *= len(cands[code])
    good: list[tuple[tuple[int | float, ...], ...]] = []
    if n_comb and n_comb <= MAX_COMBINATIONS:
        totals = set(cands["total"])
        for combo in itertools.product(*(cands[c] for c in order[:4])):
            total = tuple(sum(col) for col in zip(*combo))
            if total in totals:
                good.append((*combo, total))
    else:
        sol.note = "too many splits"
    for k, code in enumerate(order):
        sol.values[code] = _agree([g[k] for g in good], 3) if good else [None] * 3
    if len(good) > 1:
        sol.candidates["t4"] = [tuple(v for row in g for v in row) for g in good[:5]]
    return sol


def _sign_readings(groups: list[str]) -> list[list[str]]:
    """A ``-`` before digits is a minus sign, or a cell printed ``-`` (blank) before the next
    one: every combination of the two readings of the row's signed groups."""
    signed = [i for i, g in enumerate(groups) if g.startswith("-")]
    out = []
    for choice in itertools.product((True, False), repeat=min(len(signed), 4)):
        variant: list[str] = []
        for i, g in enumerate(groups):
            if i in signed[:4] and not choice[signed.index(i)]:
                variant.extend(["0", g[1:]])  # the dash was a blank cell
            else:
                variant.append(g)
        out.append(variant)
    return out


def solve_row(
    groups: list[str], k: int, decimal_cols: frozenset[int] = frozenset(), hints: dict[int, int | float] | None = None,
    signed_cols: frozenset[int] = frozenset(),
) -> Solution:
    """A row with no arithmetic of its own (table 二): certain only if the split is forced.
    ``hints`` (column → a number the report's narrative states) narrow the splits when some
    agree with them. Only ``signed_cols`` may hold a negative number; a ``-`` before digits
    is read both as a sign and as a blank cell, so a value is certain only if both agree."""
    sol = Solution()
    options: list[tuple[int | float, ...]] = []
    seen: set[tuple[int | float, ...]] = set()
    for variant in _sign_readings(groups):
        for o in itertools.islice(with_blanks(variant, k, decimal_cols), MAX_SPLITS + 1):
            if o not in seen and all(v >= 0 or c in signed_cols for c, v in enumerate(o)):
                seen.add(o)
                options.append(o)
    if len(options) > MAX_SPLITS:  # not all seen: nothing can be called certain
        sol.values["row"] = [None] * k
        return sol
    if hints:
        agreeing = [o for o in options if all(o[c] == v for c, v in hints.items())]
        if agreeing:
            options = agreeing
    sol.values["row"] = _agree(options, k) if options else [None] * k
    if len(options) > 1:
        sol.candidates["row"] = options[:5]
    return sol
