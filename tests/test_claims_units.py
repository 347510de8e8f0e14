"""Distinct counts, named facilities, charge categories and one-week periods in claims: the shipped
claims that need them, evaluated on hand-built detainer records whose answers are worked out here."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from analysis.checks.claims import (
    CANNOT,
    DIFFERS,
    REPRODUCED,
    Claim,
    ClaimError,
    ReleaseData,
    check_claims,
    evaluate,
    has_spellings,
    load_claims,
    parse_claim,
    read_claim_file,
    results_frame,
    spellings_text,
    units_paragraph,
    verdict_text,
)
from analysis.vocab.convictions import ReferenceFileError
from analysis.vocab.facilities import fold, load_facilities
from tests.fakes import detainers_release

SOURCE = {"publisher": "Test", "date": "2020-01-01", "title": "A report", "url": "https://example.org"}
DECLINED, NOTICE, EARLY, BOOKED = ("Detainer Declined by LEA", "Insufficient Notice to ICE", "Early Release",
                                   "Booked into Detention")
HOMICIDE = ("Homicide-Willful Kill-Non-Family-Gun", "0911")
REDACTED = None  # an identifier redacted in the release is a missing value after ingest

# prepare date, lift reason, facility as ICE spelled it, state, city, (charge, code), anonymized identifier
ROWS = [
    # 2022-10-01 .. 2025-02-06 (CIS 2025), all in FY2023, also inside 2021-01-20 .. 2024-07-15 (CIS 2024)
    ("2023-01-05", DECLINED, "SANTA CLARA COUNTY MAIN JAIL", "CA", "SAN JOSE", HOMICIDE, "A1"),
    ("2023-03-09", DECLINED, "SANTA CLARA CO MAIN JAIL NORTH", "CA", "SAN JOSE", HOMICIDE, "A1"),
    ("2023-02-14", NOTICE, "Santa Clara Co. Main Jail - South", "CA", "SAN JOSE", ("Dangerous Drugs", "3599"), "A2"),
    ("2023-04-01", BOOKED, "SANTA CLARA COUNTY MAIN JAIL", "CA", "SAN JOSE", HOMICIDE, "A3"),
    ("2023-05-20", DECLINED, "ELMWOOD CORRECTIONAL FACILITY", "CA", "MILPITAS", ("Murder", None), "A4"),
    ("2023-06-02", DECLINED, "SANTA CLARA COUNTY MAIN JAIL", "CA", "SAN JOSE", (None, None), "A5"),
    ("2023-01-11", DECLINED, "COOK COUNTY JAIL", "IL", "CHICAGO", ("Assault", "1399"), "B1"),
    ("2023-02-03", NOTICE, "COOK CO DEPT OF CORRECTIONS", "IL", "CHICAGO", ("Burglary", "2299"), "B2"),
    ("2023-02-08", DECLINED, "COOK COUNTY JAIL", "GA", "ADEL", HOMICIDE, "B3"),  # Cook County, Georgia
    ("2023-07-19", EARLY, "COOK COUNTY JAIL", "IL", "CHICAGO", ("Larceny", "2399"), "B4"),
    ("2023-03-03", DECLINED, "FAIRFAX CO ADULT DET CTR", "VA", "FAIRFAX", ("Traffic Offense", "5499"), "C1"),
    ("2023-08-30", DECLINED, "FAIRFAX COUNTY ADULT DETENTION CENTER", "VA", "FAIRFAX", ("Traffic Offense", "5499"), "C1"),
    ("2023-04-12", DECLINED, "ILLINOIS RIVER CORRECTIONAL CENTER", "IL", "CANTON",
     ("Homicide-Negligent Manslaughter-Weapon", "0912"), "D1"),
    ("2023-05-05", NOTICE, "STATEVILLE CC", "IL", "CREST HILL", HOMICIDE, "D2"),
    ("2023-06-06", DECLINED, "STATEVILLE CORRECTIONAL CENTER", "IL", "CREST HILL", HOMICIDE, REDACTED),
    ("2023-09-01", DECLINED, "HARRIS COUNTY JAIL", "TX", "HOUSTON", ("Homicide", "911"), "E1"),
    ("2023-09-02", BOOKED, "HARRIS COUNTY JAIL", "TX", "HOUSTON", HOMICIDE, "E2"),
    # 1 January .. 31 August 2014 (CIS 2015)
    ("2014-02-01", DECLINED, "MARICOPA COUNTY JAIL", "AZ", "PHOENIX", (None, None), "F1"),
    ("2014-03-01", DECLINED, "MARICOPA COUNTY 4TH AVE JAIL", "AZ", "PHOENIX", (None, None), "F1"),
    ("2014-04-01", DECLINED, "KING COUNTY CORRECTIONAL FACILITY", "WA", "SEATTLE", (None, None), "F2"),
    ("2014-05-01", DECLINED, "DC CENTRAL DETENTION FACILITY", "DC", "WASHINGTON", (None, None), "F3"),
    ("2014-06-01", BOOKED, "KING COUNTY JAIL", "WA", "SEATTLE", (None, None), "F4"),
    # February 2017 .. April 2018 (TRAC)
    ("2017-03-01", DECLINED, "LOS ANGELES COUNTY JAIL", "CA", "LOS ANGELES", (None, None), "G1"),
    ("2017-05-01", BOOKED, "Los Angeles  County Jail", "CA", "LOS ANGELES", (None, None), "G2"),
    ("2017-06-01", BOOKED, "TRAVIS COUNTY JAIL", "TX", "AUSTIN", (None, None), "G3"),
    ("2016-12-01", DECLINED, "TRAVIS COUNTY JAIL", "TX", "AUSTIN", (None, None), "G4"),  # before February 2017
    ("2018-04-30", DECLINED, "ORANGE COUNTY JAIL", "FL", "ORLANDO", (None, None), "G5"),
    ("2018-01-01", BOOKED, "ORANGE COUNTY JAIL", "CA", "SANTA ANA", (None, None), "G6"),
]
PENDING = {"A5": ("Homicide-Willful Kill-Non-Family-Gun", "0911")}  # charged, not convicted

# What the shipped claims count in ROWS, worked out by hand. "Released" = declined or insufficient notice.
EXPECTED = {
    # distinct people with a homicide conviction (code 09xx or homicide/murder text), released, 2022-10 .. 2025-02:
    # A1 (two detainers), A4 (text only), D1, D2, E1 (code 911 -> 0911); B3 is in Georgia but counts here;
    # the Stateville record without an identifier is left out
    "cis-2022-2025-homicide-released": 6,
    "cis-2022-2025-homicide-illinois-river": 1,  # D1
    "cis-2022-2025-homicide-santa-clara": 2,  # A1 (main jail, two spellings), A4 (Elmwood)
    "cis-2022-2025-homicide-stateville": 1,  # D2; the other record has no identifier
    "cis-2022-2025-santa-clara-main-jail": 4,  # records: A1 twice, A2 (notice), A5; A3 was booked
    "cis-2022-2025-cook-county": 2,  # B1, B2; not B3 (Georgia), not B4 (early release)
    "cis-2022-2025-fairfax": 1,  # C1 under two spellings
    "cis-2014-people-released": 3,  # F1 (two jails), F2, F3
    "cis-2014-jurisdictions": 3,  # Phoenix AZ, Seattle WA, Washington DC
    "cis-2014-states": 2,  # AZ, WA (DC is not a state)
    "trac-2017-2018-refusing-agencies": 2,  # Los Angeles County Jail CA, Orange County Jail FL
    "trac-2017-2018-agencies-sent-detainers": 4,  # LA (two spellings fold to one), Travis, Orange FL, Orange CA
    # facilities with a detainer 2021-01-20 .. 2024-07-15: the 13 spellings-with-state of FY2023;
    # of them 10 declined at least one (not Main Jail South, Cook Co Dept of Corrections, Stateville CC)
    "cis-2024-jails-refusing-share": 10 / 13,
}
NEWLY_COMPUTABLE = sorted(EXPECTED)


def processed(frame: pd.DataFrame, first: str, last: str) -> ReleaseData:
    """`frame` as the detainers table of a processed release (parquet read by DuckDB, as in a report)."""
    return ReleaseData(detainers_release(frame, first, last))


def fiscal_year(day: dt.date) -> int:
    return day.year + 1 if day.month >= 10 else day.year


def detainer_frame(rows: list[tuple], *, pending: bool = False) -> pd.DataFrame:
    records = []
    for prepared, reason, facility, state, city, (charge, code), person in rows:
        day = dt.date.fromisoformat(prepared)
        record = {"detainer_prepare_date": pd.Timestamp(day), "detainer_lift_reason": reason, "facility": facility,
                  "state": state, "city": city, "msc_charge": charge, "msc_charge_code": code,
                  "anonymized_identifier": person, "fiscal_year": fiscal_year(day)}
        if pending:
            record["pending_charge"], record["pending_charge_code"] = PENDING.get(person, (None, None))
        records.append(record)
    return pd.DataFrame(records)


@pytest.fixture(scope="module")
def release() -> ReleaseData:
    return processed(detainer_frame(ROWS), "2013-10-01", "2025-09-30")


@pytest.fixture(scope="module")
def shipped() -> dict[str, Claim]:
    return {c.id: c for c in load_claims()}


def differing(claim: Claim, value: float) -> float:
    """A published value the computed one cannot agree with under the claim's comparison."""
    if claim.statistic == "share":
        return value - 0.2 if value >= 0.2 else value + 0.2
    return 2 * value + 10


# ---------------------------------------------------------------- the shipped claims on hand-built records


def test_at_most_twelve_claims_are_not_computable_and_each_for_a_missing_field(shipped: dict[str, Claim]) -> None:
    left = {c.id: c.reason for c in shipped.values() if c.measure is None}
    assert len(left) <= 12
    fields = ("sanctuary", "re-arrest", "criminal history", "policy")
    assert all(any(word in (reason or "") for word in fields) for reason in left.values()), left


@pytest.mark.parametrize("claim_id", NEWLY_COMPUTABLE)
def test_newly_computable_claim_reproduces_the_known_answer(release: ReleaseData, shipped: dict[str, Claim],
                                                            claim_id: str) -> None:
    claim = replace(shipped[claim_id], published=EXPECTED[claim_id])
    result = evaluate(claim, release)
    assert result.value == pytest.approx(EXPECTED[claim_id])
    assert result.verdict == REPRODUCED, verdict_text(result)


@pytest.mark.parametrize("claim_id", NEWLY_COMPUTABLE)
def test_newly_computable_claim_differs_from_another_answer(release: ReleaseData, shipped: dict[str, Claim],
                                                            claim_id: str) -> None:
    claim = replace(shipped[claim_id], published=differing(shipped[claim_id], EXPECTED[claim_id]))
    result = evaluate(claim, release)
    assert result.value == pytest.approx(EXPECTED[claim_id])
    assert result.verdict == DIFFERS and verdict_text(result).startswith("differs: ")


@pytest.mark.parametrize("claim_id", NEWLY_COMPUTABLE)
def test_newly_computable_claim_cannot_be_checked_outside_the_release_period(shipped: dict[str, Claim],
                                                                             claim_id: str) -> None:
    later = processed(detainer_frame([(f"2020-0{m}-01", *ROWS[0][1:]) for m in range(1, 9)]), "2019-10-01", "2020-09-30")
    result = evaluate(shipped[claim_id], later)
    assert (result.verdict, result.value) == (CANNOT, None)
    assert result.reason.startswith("the detainers table covers 2019-10-01 to 2020-09-30, not ")


def test_pending_charges_are_read_where_the_release_has_them(shipped: dict[str, Claim]) -> None:
    with_pending = processed(detainer_frame(ROWS, pending=True), "2013-10-01", "2025-09-30")
    released = evaluate(shipped["cis-2022-2025-homicide-released"], with_pending)
    assert released.value == EXPECTED["cis-2022-2025-homicide-released"] + 1  # A5: homicide charge pending
    assert "and from pending charges (pending_charge, pending_charge_code)" in verdict_text(released)
    assert "undercount" not in verdict_text(released)
    santa_clara = evaluate(shipped["cis-2022-2025-homicide-santa-clara"], with_pending)
    assert santa_clara.value == EXPECTED["cis-2022-2025-homicide-santa-clara"] + 1


def test_a_release_without_pending_charges_says_it_undercounts(release: ReleaseData, shipped: dict[str, Claim]) -> None:
    text = verdict_text(evaluate(shipped["cis-2022-2025-homicide-released"], release))
    assert "read from the most serious conviction (msc_charge, msc_charge_code)" in text
    assert "this release has no pending-charge field" in text and "an undercount" in text


def test_facility_claims_list_every_spelling_matched_and_the_patterns_that_matched_nothing(
        release: ReleaseData, shipped: dict[str, Claim]) -> None:
    main_jail = evaluate(shipped["cis-2022-2025-santa-clara-main-jail"], release)
    [match] = main_jail.matches
    # records counted (released) under each spelling; the booked A3 is not counted but its spelling is listed
    assert match.spellings == (("SANTA CLARA COUNTY MAIN JAIL", 2), ("SANTA CLARA CO MAIN JAIL NORTH", 1),
                               ("Santa Clara Co. Main Jail - South", 1))
    assert match.unmatched == ("SANTA CLARA (CO|CNTY|COUNTY) (JAIL|DETENTION CENTER)",)
    text = spellings_text(main_jail)
    assert text.startswith("Santa Clara County Main Jail: SANTA CLARA COUNTY MAIN JAIL (2); ")
    assert "pattern matching nothing here: 'SANTA CLARA (CO|CNTY|COUNTY) (JAIL|DETENTION CENTER)'" in text
    cook = evaluate(shipped["cis-2022-2025-cook-county"], release)
    assert cook.matches[0].spellings == (("COOK CO DEPT OF CORRECTIONS", 1), ("COOK COUNTY JAIL", 1))  # Illinois only
    frame = results_frame([main_jail, cook])
    assert has_spellings(frame) and "COOK COUNTY JAIL (1)" in frame["Matched spellings"].iloc[1]


def test_matched_spelling_counts_are_suppressed_below_min_cell(release: ReleaseData, shipped: dict[str, Claim]) -> None:
    result = evaluate(shipped["cis-2022-2025-santa-clara-main-jail"], release)
    assert "SANTA CLARA COUNTY MAIN JAIL (<3)" in results_frame([result], min_cell=3)["Matched spellings"].iloc[0]


def test_a_release_without_the_named_facility_cannot_check_it(shipped: dict[str, Claim]) -> None:
    elsewhere = processed(detainer_frame([row for row in ROWS if row[3] not in ("IL", "CA")]), "2013-10-01", "2025-09-30")
    result = evaluate(shipped["cis-2022-2025-homicide-stateville"], elsewhere)
    assert (result.verdict, result.value) == (CANNOT, None)
    assert verdict_text(result) == ("cannot be checked: no facility in this release matches "
                                    "'Stateville Correctional Center' (data/reference/facilities.csv)")
    assert results_frame([result])["Matched spellings"].iloc[0] == "–"


def test_proxies_and_left_out_records_are_said_in_the_verdict(release: ReleaseData, shipped: dict[str, Claim]) -> None:
    agencies = verdict_text(evaluate(shipped["trac-2017-2018-refusing-agencies"], release))
    assert "ICE records the facility (jail or prison) a detainer was sent to, not the agency" in agencies
    jurisdictions = evaluate(shipped["cis-2014-jurisdictions"], release)
    assert "each city with its state stands in for one" in verdict_text(jurisdictions)
    assert "jurisdictions, read as cities" in jurisdictions.definition
    states = evaluate(shipped["cis-2014-states"], release)
    assert "1 of the 4 records counted have no state among the 50 and are left out" in verdict_text(states)
    stateville = evaluate(shipped["cis-2022-2025-homicide-stateville"], release)
    assert "1 of the 2 records counted have no anonymized identifier and are left out" in verdict_text(stateville)


def test_definitions_name_units_facilities_and_charges(release: ReleaseData, shipped: dict[str, Claim]) -> None:
    result = evaluate(shipped["cis-2022-2025-homicide-santa-clara"], release)
    assert result.definition == (
        "distinct people (anonymized identifier; it links records within this release only) among detainers records "
        "(detainer_prepare_date 2022-10-01 to 2025-02-06, outcome 'Declined by the agency' or 'Insufficient notice to "
        "ICE', most serious conviction or pending charge 'Homicide', facility 'Santa Clara County Main Jail (CA)' or "
        "'Elmwood Correctional Facility (CA)')")
    share = evaluate(shipped["cis-2024-jails-refusing-share"], release)
    assert share.definition.startswith("share of facilities (facility name with its state) with detainers records "
                                       "(detainer_prepare_date 2021-01-20 to 2024-07-15) that have at least one with "
                                       "declined (strict definition)")
    paragraph = units_paragraph([result, share])
    assert paragraph is not None and "counted once however many detainers" in paragraph
    assert "data/reference/facilities.csv" in paragraph


def test_identifiers_never_reach_the_results(release: ReleaseData, shipped: dict[str, Claim]) -> None:
    results = [evaluate(shipped[claim_id], release) for claim_id in NEWLY_COMPUTABLE]
    text = results_frame(results).to_csv() + "".join(verdict_text(r) for r in results)
    people = {row[-1] for row in ROWS if row[-1]}
    assert not [person for person in people if f" {person}" in text or f"'{person}" in text or f"({person}" in text]


# ---------------------------------------------------------------- one week of ICE's weekly reports

WEEK_ROWS = [  # prepared, lifted, lift reason
    ("2017-01-30", "2017-02-02", DECLINED),  # issued and declined in week 1
    ("2017-01-20", "2017-01-31", DECLINED),  # issued before, recorded declined in week 1
    ("2017-02-01", "2017-03-01", BOOKED),  # issued in week 1
    ("2017-02-03", "2017-02-06", DECLINED),  # issued on week 1's last day, declined in week 2
    ("2017-02-05", "2017-02-08", DECLINED),  # issued and declined in week 2
]


@pytest.mark.parametrize(("claim_id", "expected"), [
    ("ddor-2017-01-28-issued", 3), ("ddor-2017-01-28-declined", 2),
    ("ddor-2017-02-04-issued", 1), ("ddor-2017-02-04-declined", 2),
])
def test_a_week_counts_issued_by_prepare_date_and_declined_by_lift_date(shipped: dict[str, Claim], claim_id: str,
                                                                        expected: int) -> None:
    frame = pd.DataFrame({"detainer_prepare_date": pd.to_datetime([r[0] for r in WEEK_ROWS]),
                          "detainer_lift_date": pd.to_datetime([r[1] for r in WEEK_ROWS]),
                          "detainer_lift_reason": [r[2] for r in WEEK_ROWS], "fiscal_year": 2017})
    week = processed(frame, "2017-01-20", "2017-03-01")
    result = evaluate(replace(shipped[claim_id], published=expected), week)
    assert (result.verdict, result.value) == (REPRODUCED, expected)
    column = "detainer_lift_date" if claim_id.endswith("declined") else "detainer_prepare_date"
    assert f"{column} 2017-0" in result.definition


# ---------------------------------------------------------------- the synthetic sample


def test_on_the_sample_facility_claims_match_no_invented_jail(sample_project: Path, shipped: dict[str, Claim]) -> None:
    results = {r.claim.id: r for r in check_claims("sample")}
    named = [claim_id for claim_id, c in shipped.items() if c.measure is not None and c.measure.facilities()]
    assert len(named) == 6
    for claim_id in named:
        assert results[claim_id].value is None
        assert verdict_text(results[claim_id]).startswith("cannot be checked: no facility in this release matches")
    # a claim that names no facility is computed: checked here against the records themselves
    records = pd.read_parquet(sample_project / "data" / "processed" / "sample" / "detainers.parquet")
    released = records[records.detainer_lift_reason.isin([DECLINED, NOTICE])
                       & records.msc_charge_code.str.startswith("09", na=False)
                       & pd.to_datetime(records.detainer_prepare_date).between("2022-10-01", "2025-02-06")]
    homicide = results["cis-2022-2025-homicide-released"]
    assert homicide.verdict in (REPRODUCED, DIFFERS)
    assert homicide.value == released.anonymized_identifier.nunique()


# ---------------------------------------------------------------- claim files and the facility table


def claim(**fields) -> Claim:
    entry = {"id": "test-claim", "claim": "A figure.", "published": 1, "comparison": "exact", **fields}
    return parse_claim(entry, SOURCE, "claims.yml", 1)


@pytest.mark.parametrize(("measure", "message"), [
    ({"statistic": "distinct"}, "statistic: distinct needs a `unit`: one of people, facilities, states, jurisdictions"),
    ({"statistic": "distinct", "unit": "agencies"}, "unknown unit 'agencies'"),
    ({"statistic": "distinct", "unit": "jurisdictions"}, "unit: jurisdictions needs a `proxy`"),
    ({"statistic": "distinct", "unit": "people", "proxy": "city"}, "`proxy` is only for unit: jurisdictions"),
    ({"unit": "people"}, "`unit` is only for statistic: distinct, or a share of distinct units"),
    ({"filters": {"fiscal_year": 2023, "facility": "Rikers Island"}}, "unknown facility 'Rikers Island'"),
    ({"filters": {"fiscal_year": 2023, "charge": "Murder"}}, "unknown charge category 'Murder'"),
    ({"filters": {"fiscal_year": 2023, "charge": {"category": "Homicide", "pending": "yes"}}}, "charge must be a category"),
])
def test_new_vocabulary_mistakes_are_refused(measure: dict, message: str) -> None:
    full = {"table": "detainers", "filters": {"fiscal_year": 2023}, **measure}
    with pytest.raises(ClaimError, match=message.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|")):
        claim(measure=full)


def test_distinct_counts_compare_exactly_and_shares_of_units_need_a_tolerance(release: ReleaseData) -> None:
    people = claim(measure={"table": "detainers", "filters": {"fiscal_year": 2014}, "statistic": "distinct",
                            "unit": "people"}, published=4)
    assert evaluate(people, release).verdict == REPRODUCED  # F1 to F4
    with pytest.raises(ClaimError, match="a share cannot be compared exactly"):
        claim(measure={"table": "detainers", "filters": {"fiscal_year": 2014}, "statistic": "share",
                       "unit": "people", "numerator": {"declined": "strict"}}, published=0.5)


def test_a_release_without_charge_columns_cannot_check_a_charge_claim(shipped: dict[str, Claim]) -> None:
    frame = detainer_frame(ROWS).drop(columns=["msc_charge", "msc_charge_code"])
    result = evaluate(shipped["cis-2022-2025-homicide-released"], processed(frame, "2013-10-01", "2025-09-30"))
    assert result.reason == "the detainers table of this release has no msc_charge or msc_charge_code column"


def test_readme_documents_units_and_the_new_filters() -> None:
    from analysis.checks.claims import UNITS, claims_dir

    readme = (claims_dir() / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in ("facility", "charge", "distinct", "proxy", *UNITS))
    assert "statistic: distinct" in readme and "facility: Santa Clara County Main Jail" in readme


def test_the_facility_table_seeds_every_facility_the_claims_name(shipped: dict[str, Claim]) -> None:
    table = load_facilities()
    named = {f.name for c in shipped.values() if c.measure is not None for f in c.measure.facilities()}
    assert named == {"Santa Clara County Main Jail", "Elmwood Correctional Facility", "Cook County Jail",
                     "Fairfax County Adult Detention Center", "Illinois River Correctional Center",
                     "Stateville Correctional Center"}
    assert named <= set(table)


@pytest.mark.parametrize(("spelling", "state", "facility"), [
    ("SANTA CLARA COUNTY MAIN JAIL", "CA", "Santa Clara County Main Jail"),
    ("Santa Clara Co. Main Jail - North", "CA", "Santa Clara County Main Jail"),
    ("SANTA CLARA COUNTY JAIL", "CA", "Santa Clara County Main Jail"),
    ("ELMWOOD CORR FAC", "CA", "Elmwood Correctional Facility"),
    ("COOK CO. DEPT. OF CORRECTIONS", "IL", "Cook County Jail"),
    ("FAIRFAX COUNTY ADC", "VA", "Fairfax County Adult Detention Center"),
    ("ILLINOIS RIVER CC", "IL", "Illinois River Correctional Center"),
    ("STATEVILLE CORR CTR", "IL", "Stateville Correctional Center"),
])
def test_facility_patterns_match_ice_spellings(spelling: str, state: str, facility: str) -> None:
    table = load_facilities()
    assert [name for name, f in table.items() if f.matches(spelling) and f.state == state] == [facility]


@pytest.mark.parametrize("spelling", [
    "SANTA CLARA COUNTY MAIN JAIL ANNEX X",  # the whole name must match
    "SAN JOSE CITY JAIL", "COOK COUNTY JAIL ANNEX", "STATEVILLE NRC", "FAIRFAX COUNTY JUVENILE DETENTION CENTER",
])
def test_facility_patterns_do_not_match_other_jails(spelling: str) -> None:
    assert not [name for name, f in load_facilities().items() if f.matches(spelling)]


def test_fold_removes_case_and_punctuation() -> None:
    assert fold("  Santa Clara Co. Main Jail - North ") == "SANTA CLARA CO MAIN JAIL NORTH"


def write_table(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["facility", "state", "county", "pattern", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return path


GOOD_ROW = {"facility": "Cook County Jail", "state": "IL", "county": "Cook", "pattern": "COOK COUNTY JAIL", "note": "x"}


@pytest.mark.parametrize(("change", "message"), [
    ({"state": "Illinois"}, "row 2, column 'state': state must be a two-letter code"),
    ({"pattern": "COOK (COUNTY"}, "row 2, column 'pattern': pattern 'COOK (COUNTY' is not a valid regular expression"),
    ({"pattern": ""}, "row 2, column 'pattern': pattern must not be empty"),
])
def test_a_bad_facility_table_is_one_line_naming_file_and_row(tmp_path: Path, change: dict, message: str) -> None:
    path = write_table(tmp_path / "facilities.csv", [{**GOOD_ROW, **change}])
    with pytest.raises(ReferenceFileError) as caught:
        load_facilities(path)
    assert "facilities.csv" in caught.value.one_line() and message in caught.value.one_line()


def test_one_facility_in_two_states_is_refused(tmp_path: Path) -> None:
    path = write_table(tmp_path / "facilities.csv", [GOOD_ROW, {**GOOD_ROW, "state": "GA"}])
    with pytest.raises(ReferenceFileError, match="row 3: 'Cook County Jail' is given another state or county on row 2"):
        load_facilities(path)


def test_a_claim_file_naming_a_facility_reads_it_from_the_table(tmp_path: Path) -> None:
    path = tmp_path / "jail.yml"
    path.write_text("""
source: {publisher: CIS, date: 2025-04-09, title: Report, url: "https://example.org"}
claims:
  - id: cook
    claim: Cook County Jail declined many detainers.
    measure:
      table: detainers
      filters: {fiscal_year: 2023, facility: Cook County Jail, charge: [Homicide, Kidnapping]}
    published: 1000
    comparison: at_least
""")
    [parsed] = read_claim_file(path)
    assert parsed.measure is not None
    assert [f.name for f in parsed.measure.facilities()] == ["Cook County Jail"]
    assert parsed.measure.filters["charge"].categories == ("Homicide", "Kidnapping")


# ---------------------------------------------------------------- a raw release, ingested

RAW_HEADER = ["Detainer Prepare Date", "Detainer Lift Date", "Detainer Lift Reason", "Facility State", "Facility City",
              "Detainer Facility", "MSC Charge", "MSC Charge Code", "Pending Charge", "Anonymized Identifier"]
RAW_ROWS = [
    ["10/1/2022", "10/3/2022", DECLINED, "CA", "SAN JOSE", "SANTA CLARA COUNTY MAIN JAIL", *HOMICIDE, "", "7F3A21"],
    ["11/15/2022", "11/20/2022", NOTICE, "CA", "SAN JOSE", "SANTA CLARA CO MAIN JAIL NORTH", "", "", "Murder", "9C0B44"],
    ["3/2/2023", "3/9/2023", DECLINED, "CA", "SAN JOSE", "Santa Clara Co. Main Jail - South", "Assault", "1399", "",
     "(b)(6),(b)(7)(c )"],
    ["6/30/2024", "7/2/2024", DECLINED, "IL", "CHICAGO", "COOK COUNTY JAIL", "Larceny", "2399", "", "5D19E0"],
    ["2/6/2025", "2/6/2025", BOOKED, "VA", "FAIRFAX", "FAIRFAX CO ADULT DET CTR", "Dangerous Drugs", "3599", "",
     "1A2B3C"],
]


def ingest_raw_release(project: Path) -> str:
    """A pipe-delimited detainer file as ICE sends them (banners, header, redactions), ingested."""
    from analysis.paths import locate_release
    from analysis.reading.ingest import ingest

    folder = project / "data" / "raw" / "dpr-test"
    folder.mkdir(parents=True)
    banners = ["ERO-LESA Statistical Tracking Unit", "Law Enforcement Sensitive", "2025-ICFO-18038", "",
               "ICE Detainers Prepared FY2023-FY2025"]
    lines = [f'"{b}"' if b else "" for b in banners] + ["|".join(RAW_HEADER)] + ["|".join(r) for r in RAW_ROWS]
    (folder / "DPR_FY2023-FY2025.txt").write_text("\n".join(lines) + "\n")
    return ingest(locate_release("dpr-test"))["release"]


def test_claims_on_an_ingested_release_with_ice_spellings_and_a_pending_charge_field(project: Path) -> None:
    ingest_raw_release(project)
    shipped = {c.id: c for c in load_claims()}
    expected = {"cis-2022-2025-santa-clara-main-jail": 3, "cis-2022-2025-homicide-santa-clara": 2,
                "cis-2022-2025-cook-county": 1, "cis-2022-2025-fairfax": 0}
    results = {r.claim.id: r for r in check_claims("dpr-test", [replace(shipped[i], published=v) for i, v in expected.items()])}
    for claim_id, value in expected.items():
        assert (results[claim_id].verdict, results[claim_id].value) == (REPRODUCED, value), verdict_text(results[claim_id])
    # the pending homicide charge of the second person is read from `Pending Charge`
    assert "and from pending charges (pending_charge)" in verdict_text(results["cis-2022-2025-homicide-santa-clara"])
    spellings = spellings_text(results["cis-2022-2025-santa-clara-main-jail"])
    assert spellings.startswith("Santa Clara County Main Jail: SANTA CLARA CO MAIN JAIL NORTH (1); "
                                "SANTA CLARA COUNTY MAIN JAIL (1); Santa Clara Co. Main Jail - South (1)")
    # the redacted identifier is a missing value: that record is a detainer, but no person is counted for it
    people = claim(measure={"table": "detainers", "statistic": "distinct", "unit": "people",
                            "filters": {"date_range": ["2022-10-01", "2023-03-31"], "facility": "Santa Clara County Main Jail"}},
                   published=2)
    [result] = check_claims("dpr-test", [people])
    assert (result.verdict, result.value) == (REPRODUCED, 2)
    assert "1 of the 3 records counted have no anonymized identifier and are left out" in verdict_text(result)
    assert "(b)(6)" not in verdict_text(result) + spellings and "7F3A21" not in verdict_text(result) + spellings


def test_the_claims_section_shows_the_spellings_each_named_facility_matched(project: Path, tmp_path: Path) -> None:
    from analysis.report.build import ensure_kernel, execute
    from analysis.report.context import OUTPUT_KEY
    from analysis.report.parameters import ReportParameters

    release_id = ingest_raw_release(project)
    ensure_kernel()
    name = "07_claims_check.ipynb"
    nb = execute(project / "notebooks" / name, tmp_path / name, ReportParameters(release=release_id), tmp_path / "failed")
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    tables = {o["metadata"][OUTPUT_KEY]["name"]: o["metadata"][OUTPUT_KEY]["csv"] for o in outputs
              if OUTPUT_KEY in o.get("metadata", {})}
    cis = list(csv.reader(tables["claims-3-cis"].splitlines()))
    assert cis[0] == ["Claim", "Published", "This release", "Verdict", "Definition used", "Matched spellings"]
    cook = next(row for row in cis if row[0].startswith("Cook County Jail released"))
    assert cook[-1] == "Cook County Jail: COOK COUNTY JAIL (1); patterns matching nothing here: " + ", ".join(
        f"'{p.pattern}'" for p in load_facilities()["Cook County Jail"].patterns[1:])
    prose = "\n".join(o["data"]["text/markdown"] for o in outputs
                      if "text/markdown" in o.get("data", {}) and OUTPUT_KEY not in o.get("metadata", {}))
    assert "the table lists every spelling of this release each one matched" in prose


def test_identifiers_redacted_in_every_record_give_no_count_of_people(shipped: dict[str, Claim]) -> None:
    frame = detainer_frame(ROWS).assign(anonymized_identifier=None)
    result = evaluate(shipped["cis-2014-people-released"], processed(frame, "2013-10-01", "2025-09-30"))
    assert (result.verdict, result.value) == (CANNOT, None)
    assert result.reason == "the 4 records counted have no anonymized identifier"


# ---------------------------------------------------------------- counted by DuckDB, rules applied to distinct values

# one person's identifier as a release may spell it: the rule strips what str.strip() strips, so the
# no-break space and the ideographic space count as padding like an ordinary space; case is kept
SPELLED = [("A1", DECLINED), (" A1", DECLINED), ("A1\u00a0", NOTICE), ("\u3000A1\n", BOOKED),
           ("a1", DECLINED), ("B2", DECLINED), ("B2 ", BOOKED),
           ("", DECLINED), ("   ", DECLINED), (None, DECLINED), ("\u2003", NOTICE)]  # no identifier


def spelled_release() -> ReleaseData:
    frame = pd.DataFrame({"detainer_prepare_date": pd.Timestamp("2023-01-05"), "fiscal_year": 2023,
                          "anonymized_identifier": [person for person, _ in SPELLED],
                          "detainer_lift_reason": [reason for _, reason in SPELLED]})
    return processed(frame, "2022-10-01", "2023-09-30")


def test_people_are_counted_once_however_their_identifier_is_padded() -> None:
    people = claim(measure={"table": "detainers", "filters": {"fiscal_year": 2023}, "statistic": "distinct",
                            "unit": "people"}, published=3)
    result = evaluate(people, spelled_release())
    assert (result.verdict, result.value) == (REPRODUCED, 3)  # A1, a1, B2
    assert "4 of the 11 records counted have no anonymized identifier and are left out" in verdict_text(result)
    declined = claim(measure={"table": "detainers", "filters": {"fiscal_year": 2023, "declined": "strict"},
                              "statistic": "distinct", "unit": "people"}, published=3)
    assert "3 of the 7 records counted have no anonymized identifier" in verdict_text(evaluate(declined, spelled_release()))


def test_a_share_of_people_counts_each_person_once_in_part_and_whole() -> None:
    booked = claim(measure={"table": "detainers", "filters": {"fiscal_year": 2023}, "statistic": "share",
                            "unit": "people", "numerator": {"lift_reason_bucket": "booked"}},
                   published=0.67, comparison="approximately", tolerance=0.01)
    result = evaluate(booked, spelled_release())
    assert result.value == pytest.approx(2 / 3)  # A1 (booked as '\u3000A1\n') and B2 ('B2 ') of A1, a1, B2
    assert result.verdict == REPRODUCED


def test_whitespace_is_what_str_strip_removes() -> None:
    import sys

    from analysis.checks.claims import WHITESPACE

    assert set(WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


def test_claims_are_counted_without_loading_a_column(shipped: dict[str, Claim]) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a claim loaded whole columns")

    source = detainers_release(detainer_frame(ROWS, pending=True), "2013-10-01", "2025-09-30")
    source.load = source.arrow = refuse  # type: ignore[method-assign]
    data = ReleaseData(source)
    for claim_id in NEWLY_COMPUTABLE:
        expected = EXPECTED[claim_id] + (claim_id in ("cis-2022-2025-homicide-released",
                                                      "cis-2022-2025-homicide-santa-clara"))  # A5's pending charge
        assert evaluate(shipped[claim_id], data).value == pytest.approx(expected), claim_id


def test_claims_read_the_whole_release_whatever_the_scope_of_the_report(shipped: dict[str, Claim]) -> None:
    from analysis.release import Scope

    report = detainers_release(detainer_frame(ROWS), "2013-10-01", "2025-09-30")
    report.scope = Scope(state="TX", fy_start=2014, fy_end=2014)  # a report on Texas, FY2014: no record of ROWS
    assert report.sql("select count(*) as n from detainers")["n"].item() == 0
    results = check_claims(report, [replace(shipped[i], published=EXPECTED[i]) for i in NEWLY_COMPUTABLE])
    assert [r.value for r in results] == pytest.approx([EXPECTED[i] for i in NEWLY_COMPUTABLE])
    # the report's connection stays open, without the tables of accepted values the claims made
    assert report.sql("select count(*) as n from duckdb_views() where view_name like 'claim_values%'")["n"].item() == 0
