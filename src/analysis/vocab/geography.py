"""U.S. states and the ICE ERO area of responsibility (AOR) that covers most of each.

The AOR assignment is the usual one for a state's main jails; Texas, California and New York
are split between several AORs, and the sample generator draws among them.
"""

from __future__ import annotations

# state code -> (name, AORs covering it, tile-grid column, tile-grid row)
STATES: dict[str, tuple[str, tuple[str, ...], int, int]] = {
    "AK": ("Alaska", ("Seattle",), 0, 0),
    "ME": ("Maine", ("Boston",), 11, 0),
    "VT": ("Vermont", ("Boston",), 10, 1),
    "NH": ("New Hampshire", ("Boston",), 11, 1),
    "WA": ("Washington", ("Seattle",), 1, 2),
    "ID": ("Idaho", ("Salt Lake City",), 2, 2),
    "MT": ("Montana", ("Salt Lake City",), 3, 2),
    "ND": ("North Dakota", ("St. Paul",), 4, 2),
    "MN": ("Minnesota", ("St. Paul",), 5, 2),
    "IL": ("Illinois", ("Chicago",), 6, 2),
    "WI": ("Wisconsin", ("Chicago",), 7, 2),
    "MI": ("Michigan", ("Detroit",), 8, 2),
    "NY": ("New York", ("New York City", "Buffalo"), 9, 2),
    "RI": ("Rhode Island", ("Boston",), 10, 2),
    "MA": ("Massachusetts", ("Boston",), 11, 2),
    "OR": ("Oregon", ("Seattle",), 1, 3),
    "NV": ("Nevada", ("Salt Lake City",), 2, 3),
    "WY": ("Wyoming", ("Denver",), 3, 3),
    "SD": ("South Dakota", ("St. Paul",), 4, 3),
    "IA": ("Iowa", ("St. Paul",), 5, 3),
    "IN": ("Indiana", ("Chicago",), 6, 3),
    "OH": ("Ohio", ("Detroit",), 7, 3),
    "PA": ("Pennsylvania", ("Philadelphia",), 8, 3),
    "NJ": ("New Jersey", ("Newark",), 9, 3),
    "CT": ("Connecticut", ("Boston",), 10, 3),
    "CA": ("California", ("Los Angeles", "San Francisco", "San Diego"), 1, 4),
    "UT": ("Utah", ("Salt Lake City",), 2, 4),
    "CO": ("Colorado", ("Denver",), 3, 4),
    "NE": ("Nebraska", ("St. Paul",), 4, 4),
    "MO": ("Missouri", ("Chicago",), 5, 4),
    "KY": ("Kentucky", ("Chicago",), 6, 4),
    "WV": ("West Virginia", ("Philadelphia",), 7, 4),
    "VA": ("Virginia", ("Washington",), 8, 4),
    "MD": ("Maryland", ("Baltimore",), 9, 4),
    "DE": ("Delaware", ("Philadelphia",), 10, 4),
    "AZ": ("Arizona", ("Phoenix",), 2, 5),
    "NM": ("New Mexico", ("El Paso",), 3, 5),
    "KS": ("Kansas", ("Chicago",), 4, 5),
    "AR": ("Arkansas", ("New Orleans",), 5, 5),
    "TN": ("Tennessee", ("New Orleans",), 6, 5),
    "NC": ("North Carolina", ("Atlanta",), 7, 5),
    "SC": ("South Carolina", ("Atlanta",), 8, 5),
    "DC": ("District of Columbia", ("Washington",), 9, 5),
    "OK": ("Oklahoma", ("Dallas",), 4, 6),
    "LA": ("Louisiana", ("New Orleans",), 5, 6),
    "MS": ("Mississippi", ("New Orleans",), 6, 6),
    "AL": ("Alabama", ("New Orleans",), 7, 6),
    "GA": ("Georgia", ("Atlanta",), 8, 6),
    "HI": ("Hawaii", ("San Francisco",), 0, 7),
    "TX": ("Texas", ("Houston", "Dallas", "San Antonio", "El Paso"), 4, 7),
    "FL": ("Florida", ("Miami",), 9, 7),
}

AORS: tuple[str, ...] = tuple(sorted({aor for _, aors, _, _ in STATES.values() for aor in aors}))
TERRITORIES = frozenset({"PR", "GU", "VI", "MP", "AS"})
HQ_AOR = "HQ"  # ICE headquarters: a real AOR value with no territory of its own


def aor_label(aor: str) -> str:
    """The spelling ICE uses in releases: `Seattle Area of Responsibility`."""
    return f"{aor} Area of Responsibility"


def short_aor(label: str) -> str:
    """`Seattle Area of Responsibility` -> `Seattle` (other spellings pass through)."""
    text = str(label).strip()
    for suffix in (" Area of Responsibility", " Area Of Responsibility", " AOR"):
        if text.endswith(suffix):
            return text[: -len(suffix)]
    return text


def _spelling_key(text: str) -> str:
    return " ".join(text.split()).lower()


# a value folded by `_spelling_key` -> its canonical spelling (`ca`, `california` -> `CA`)
STATE_SPELLINGS: dict[str, str] = {
    **{_spelling_key(name): code for code, (name, *_) in STATES.items()},
    **{_spelling_key(code): code for code in [*STATES, *TERRITORIES]},
}
# the short name and ICE's label keep their form; only case and spacing are made canonical
AOR_SPELLINGS: dict[str, str] = {
    _spelling_key(spelling): spelling for aor in (*AORS, HQ_AOR) for spelling in (aor, aor_label(aor))
}
