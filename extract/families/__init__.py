"""Portal families: one module each, all with the same interface (see base.py)."""

from __future__ import annotations

from gongkai.extract.families import generic, gkmlpt, hanweb, jhtml, trs
from gongkai.extract.families.base import Family

FAMILIES: dict[str, Family] = {
    "generic": generic.FAMILY,
    "hanweb": hanweb.FAMILY,
    "trs": trs.FAMILY,
    "gkmlpt": gkmlpt.FAMILY,
    "jhtml": jhtml.FAMILY,
}
