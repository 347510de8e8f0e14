"""convictions: the reviewed mapping in data/reference/conviction_categories.csv, how codes and
text are matched, what is not mapped, and how a bad mapping file is reported."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from analysis.vocab import convictions
from analysis.vocab.convictions import NONE_RECORDED, NOT_MAPPED, ReferenceFileError

REPO = Path(__file__).resolve().parents[1]
MAPPING = REPO / "data" / "reference" / "conviction_categories.csv"


@pytest.fixture(scope="module")
def rules() -> convictions.Rules:
    return convictions.load_rules(MAPPING)


def categorise(rules, charges, codes=None):
    codes_series = pd.Series(codes, dtype=object) if codes is not None else None
    return convictions.categorise(pd.Series(charges, dtype=object), codes_series, rules).tolist()


@pytest.mark.parametrize(("code", "category"), [
    ("0911", "Homicide"), ("1199", "Sexual assault"), ("1299", "Robbery"), ("1399", "Assault"),
    ("1315", "Assault"), ("2299", "Burglary"), ("2399", "Larceny/theft"), ("3599", "Drugs"), ("5299", "Weapons"),
    ("5403", "DUI"), ("5404", "DUI"), ("5499", "Traffic"), ("5401", "Traffic"), ("2699", "Fraud"),
    ("4899", "Obstruction"), ("0399", "Immigration"),
])
def test_ncic_code_ranges(rules, code, category):
    assert categorise(rules, [None], [code]) == [category]


@pytest.mark.parametrize(("charge", "category"), [
    ("Homicide-Willful Kill-Non-Family-Gun", "Homicide"),
    ("Sexual Assault", "Sexual assault"),
    ("Aggravated Assault - Weapon", "Assault"),
    ("Armed Robbery", "Robbery"),
    ("Driving Under Influence Liquor", "DUI"),
    ("Driving Under the Influence Drugs", "DUI"),
    ("Traffic Offense", "Traffic"),
    ("Identity Theft", "Fraud"),
    ("Larceny", "Larceny/theft"),
    ("Cocaine - Possess", "Drugs"),
    ("Weapon Offense", "Weapons"),
    ("Illegal Entry (INA SEC.101(a)(43)(O), 8USC1325)", "Immigration"),
    ("Illegal Reentry (INA SEC.101(a)(43)(O), 8USC1326)", "Immigration"),
    ("Obstructing Police", "Obstruction"),
    ("  burglary  ", "Burglary"),
])
def test_charge_text_patterns(rules, charge, category):
    assert categorise(rules, [charge]) == [category]


def test_code_decides_before_text_and_text_fills_in(rules):
    # the code says assault though the text says robbery: the code wins
    assert categorise(rules, ["Robbery", "Robbery", "Robbery"], ["1399", None, "9999"]) == \
        ["Assault", "Robbery", "Robbery"]


def test_unmatched_and_missing_are_kept_visible(rules):
    assert categorise(rules, ["Something unheard of", None, None, "  "], ["9999", "9999", None, None]) == \
        [NOT_MAPPED, NOT_MAPPED, NONE_RECORDED, NONE_RECORDED]


def test_unmapped_charges_lists_what_to_review(rules):
    charges = pd.Series(["Unheard of", "Unheard of", "Assault", None], dtype=object)
    codes = pd.Series([None, None, "1399", "9999"], dtype=object)
    review = convictions.unmapped_charges(charges, codes, rules)
    assert review.to_dict("records") == [{"charge": "Unheard of", "code": "", "records": 2},
                                         {"charge": "", "code": "9999", "records": 1}]


def test_unmapped_charges_of_counts_add_up_the_records_each_row_stands_for(rules):
    # one row per distinct charge and code as DuckDB counts them: spellings that normalise alike add up
    charges = pd.Series(["Unheard of", "Unheard  of ", "Assault", None, "Other"], dtype=object)
    codes = pd.Series([None, None, "1399", "9999", "9999.0"], dtype=object)
    records = pd.Series([4, 3, 100, 2, 5])
    review = convictions.unmapped_charges(charges, codes, rules, records=records)
    assert review.to_dict("records") == [{"charge": "Unheard of", "code": "", "records": 7},
                                         {"charge": "Other", "code": "9999", "records": 5},
                                         {"charge": "", "code": "9999", "records": 2}]


@pytest.mark.parametrize(("raw", "code"), [("0911", "0911"), ("911", "0911"), (" 911.0 ", "0911"), (911.0, "0911"),
                                           ("5404", "5404"), (None, None), ("", None), (float("nan"), None)])
def test_normalise_code(raw, code):
    assert convictions.normalise_code(raw) == code


def test_longest_code_prefix_wins_whatever_the_file_order(tmp_path):
    path = tmp_path / "map.csv"
    path.write_text("kind,pattern,category,note\ncode,54,Traffic,NCIC offense codes\ncode,5404,DUI,NCIC offense codes\n")
    rules = convictions.load_rules(path)
    assert categorise(rules, [None, None], ["5404", "5499"]) == ["DUI", "Traffic"]


def test_every_code_rule_names_its_source():
    with MAPPING.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["note"].strip() for row in rows)
    assert all("NCIC offense codes" in row["note"] for row in rows if row["kind"] == "code")


@pytest.mark.parametrize(("text", "message", "row"), [
    ("kind,pattern,category,note\nregex,x,Y,z\n", "kind must be 'code' or 'text'", 2),
    ("kind,pattern,category,note\ntext,ok,Y,z\ntext,(unclosed,Y,z\n", "not a valid regular expression", 3),
    ("kind,pattern,category,note\ncode,,Y,z\n", "must not be empty", 2),
    ("kind,pattern,note\ncode,09,z\n", "missing column(s) category", 1),
])
def test_bad_mapping_file_is_one_line_naming_file_and_row(tmp_path, text, message, row):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ReferenceFileError) as caught:
        convictions.load_rules(path)
    assert message in str(caught.value) and f"row {row}" in str(caught.value) and "bad.csv" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_mapping_file(tmp_path):
    with pytest.raises(ReferenceFileError, match="not found"):
        convictions.load_rules(tmp_path / "absent.csv")


def test_a_project_can_use_its_own_mapping(project):
    assert convictions.default_path() == MAPPING  # the empty project has none: the checkout's
    own = project / "data" / "reference" / "conviction_categories.csv"
    own.parent.mkdir(parents=True)
    own.write_text("kind,pattern,category,note\ntext,assault,Violence,local choice\n")
    assert convictions.default_path() == own
    assert convictions.categorise(pd.Series(["Assault"])).tolist() == ["Violence"]
