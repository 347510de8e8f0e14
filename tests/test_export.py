"""`analysis export`: processed tables as CSV, Parquet and Stata files, identifiers left out,
formula-like CSV cells neutralised, Stata's limits respected, files written atomically."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from analysis import export
from analysis.cli import main
from analysis.export import ExportError, export_release, stata_names
from analysis.paths import locate_release
from analysis.reading.ingest import ingest
from tests.test_bad_input import error_line, release_dir

LONG_NAME = "Apprehension Landmark Description As Recorded By The Arresting Officer"
HEADER = ["Area of Responsibility", "Apprehension Date", "Apprehension Method", "Citizenship", LONG_NAME, "Long",
          "Anonymized Identifier"]
ROWS = [
    ["Seattle Area of Responsibility", "10/1/2020", "Located", "JOSÉ", '=HYPERLINK("http://x.invalid","click")', "a", "ID-1"],
    ["Seattle Area of Responsibility", "10/2/2020", "+1 Located", "Peñasco", "-5", "b" * 3000, "ID-2"],
    ["Chicago Area of Responsibility", "", "@SUM(A1)", "MEXICO", "  plain text", None, "ID-3"],
]


@pytest.fixture
def tricky(project: Path) -> str:
    """An ingested release whose values try spreadsheet formulas, long text and Unicode."""
    folder = release_dir(project, "tricky")
    lines = ["ERO Administrative Arrests FY2021", "|".join(HEADER)]
    lines += ["|".join(cell or "" for cell in row) for row in ROWS]
    (folder / "arrests.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest(locate_release("tricky"))
    return "tricky"


def test_csv_leaves_out_identifiers_and_neutralises_formulas(project: Path, tricky: str) -> None:
    result = export_release(tricky, "csv")
    out = project / "data" / "exports" / "tricky"
    assert result.out_dir == out
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "arrests.csv"]
    with (out / "arrests.csv").open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == 3
    assert "anonymized_identifier" not in records[0] and "row_hash" not in records[0]
    landmark = canonical_long = next(c for c in records[0] if c.startswith("apprehension_landmark_description"))
    assert [r[landmark] for r in records] == ["'=HYPERLINK(\"http://x.invalid\",\"click\")", "'-5", "plain text"]
    assert [r["apprehension_method"] for r in records] == ["Located", "'+1 Located", "'@SUM(A1)"]
    assert [r["citizenship"] for r in records] == ["JOSÉ", "Peñasco", "MEXICO"]
    assert [r["apprehension_date"] for r in records] == ["2020-10-01", "2020-10-02", ""]
    assert canonical_long
    assert result.left_out == {"arrests": ["anonymized_identifier", "row_hash"]}
    readme = (out / "README.txt").read_text()
    assert "RECORD-LEVEL DATA" in readme and "Left out of every table: anonymized_identifier, row_hash" in readme
    assert "ID-1" not in (out / "arrests.csv").read_text()


def test_formula_rule_on_cells_and_columns() -> None:
    from analysis.escaping import csv_cell, csv_header, csv_strings

    cells = ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "a=b", "", None, "'=already"]
    expected = ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "a=b", "", None, "'=already"]
    assert [csv_cell(c) for c in cells] == expected
    assert csv_strings(pa.array(cells)).to_pylist() == expected
    assert csv_cell(-5) == -5
    assert csv_header(["+cmd|' /C calc'!A0", "@SUM(1)", "Records", 2021]) == ["'+cmd|' /C calc'!A0", "'@SUM(1)", "Records", "2021"]


def test_parquet_is_the_processed_table_without_identifiers(project: Path, tricky: str) -> None:
    export_release(tricky, "parquet")
    exported = pq.read_table(project / "data" / "exports" / "tricky" / "arrests.parquet")
    processed = pq.read_table(project / "data" / "processed" / "tricky" / "arrests.parquet")
    assert exported.equals(processed.drop_columns(["anonymized_identifier", "row_hash"]))


def test_stata_names_fit_stata_rules() -> None:
    columns = ["ok", "long", "1st_date", "x" * 40, "x" * 33, "with-dash", "_n"]
    renamed = stata_names(columns)
    assert renamed == {"long": "v_long", "1st_date": "v_1st_date", "x" * 40: "x" * 32, "x" * 33: "x" * 30 + "_2",
                       "with-dash": "with_dash", "_n": "v__n"}
    final = [renamed.get(c, c) for c in columns]
    assert len(set(final)) == len(final) and all(len(n) <= 32 for n in final)


def test_dta_round_trip(project: Path, tricky: str) -> None:
    result = export_release(tricky, "dta")
    path = project / "data" / "exports" / "tricky" / "arrests.dta"
    frame = pd.read_stata(path)
    with pd.io.stata.StataReader(path) as reader:
        labels = reader.variable_labels()
    assert all(len(name) <= 32 for name in frame.columns)
    assert "anonymized_identifier" not in frame.columns and "row_hash" not in frame.columns
    assert list(frame["citizenship"]) == ["JOSÉ", "Peñasco", "MEXICO"]
    assert frame["v_long"].str.len().tolist() == [1, 3000, 0]  # a strL beyond str2045; missing text is ""
    assert frame["apprehension_date"].iloc[0] == pd.Timestamp(dt.date(2020, 10, 1))
    assert pd.isna(frame["apprehension_date"].iloc[2])
    long_original = next(c for c in result.renamed["arrests"] if c.startswith("apprehension_landmark_description"))
    assert labels[result.renamed["arrests"][long_original]] == long_original[:80]
    assert labels["v_long"] == "long"
    readme = (project / "data" / "exports" / "tricky" / "README.txt").read_text()
    assert "long -> v_long" in readme and "format 118" in readme


def test_sample_exports_carry_no_identifier(sample_project: Path, tmp_path: Path) -> None:
    for fmt in ("csv", "dta", "parquet"):
        result = export_release("sample", fmt, tmp_path / fmt)
        assert sorted(p.name for p in result.files) == sorted(["README.txt", f"arrests.{fmt}", f"detainers.{fmt}"])
        for path in result.files:
            assert b"SYN-" not in path.read_bytes(), f"an anonymized identifier in {path.name}"
    exported = pacsv.read_csv(tmp_path / "csv" / "detainers.csv")
    assert exported.num_rows == pq.read_metadata(sample_project / "data/processed/sample/detainers.parquet").num_rows


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(project: Path, tricky: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    export_release(tricky, "csv")
    out = project / "data" / "exports" / "tricky"
    before = (out / "arrests.csv").read_bytes()

    class HalfWritten:
        """A CSV writer whose disk fills up after the header and part of the first row."""

        def __init__(self, path: str, schema: pa.Schema) -> None:
            self.path = Path(path)
            self.path.write_text("aor,apprehension_date\n")

        def __enter__(self) -> HalfWritten:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def write_batch(self, batch: pa.RecordBatch) -> None:
            with self.path.open("a") as handle:
                handle.write("Seattle")
            raise OSError("disk full")

    monkeypatch.setattr(export.pacsv, "CSVWriter", HalfWritten)
    with pytest.raises(OSError, match="disk full"):
        export_release(tricky, "csv")
    assert (out / "arrests.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "arrests.csv"]


@pytest.mark.parametrize("inside", ["reports", "reports/tricky/tables", "data/raw", "data/raw/tricky", "data/processed"])
def test_exports_never_go_where_they_do_not_belong(project: Path, tricky: str, inside: str) -> None:
    with pytest.raises(ExportError, match="cannot export into"):
        export_release(tricky, "csv", project / inside)
    assert not list((project / "reports").rglob("*.csv"))


def test_unknown_table_and_format(project: Path, tricky: str) -> None:
    with pytest.raises(ExportError, match=r"release 'tricky' has no table 'detainers' \(it has arrests\)"):
        export_release(tricky, "csv", tables=["detainers"])
    with pytest.raises(ExportError, match="unknown export format 'xls'"):
        export_release(tricky, "xls")


def test_cli_export_ingests_if_needed_and_says_what_it_wrote(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = release_dir(project, "fresh")
    (folder / "arrests.txt").write_text("ERO Arrests FY2021\n" + "|".join(HEADER) + "\n" + "|".join(c or "" for c in ROWS[0]) + "\n")
    assert main(["-q", "export", "fresh", "--format", "parquet", "--table", "arrests"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote 1 table(s) as parquet to data/exports/fresh: record-level data")
    assert "left out: anonymized_identifier, row_hash" in out
    assert (project / "data" / "exports" / "fresh" / "arrests.parquet").is_file()


def test_cli_export_errors_are_one_line(project: Path, tricky: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = error_line(["export", "tricky", "--format", "csv", "--out", str(project / "reports" / "x")], capsys)
    assert "cannot export into reports/x: reports/ holds what is published" in line
    line = error_line(["export", "tricky", "--format", "csv", "--table", "nope"], capsys)
    assert "release 'tricky' has no table 'nope'" in line


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_export_in_many_batches_equals_one_in_a_single_pass(sample_project: Path, tmp_path: Path, fmt: str) -> None:
    """Batches of 500 records (the sample's detainers in seven batches) write the same records, in
    the same order, as one batch of the whole table: the CSV byte for byte, the header once."""
    processed = sample_project / "data/processed/sample/detainers.parquet"
    rows = pq.read_metadata(processed).num_rows
    assert rows > 2_000
    export_release("sample", fmt, tmp_path / "many", ["detainers"], batch_rows=500)
    export_release("sample", fmt, tmp_path / "one", ["detainers"], batch_rows=rows)
    many, one = tmp_path / "many" / f"detainers.{fmt}", tmp_path / "one" / f"detainers.{fmt}"
    if fmt == "csv":
        assert many.read_bytes() == one.read_bytes()
        assert pacsv.read_csv(many).num_rows == rows
        return
    assert pq.read_metadata(many).num_row_groups > pq.read_metadata(one).num_row_groups
    exported = pq.read_table(many)
    assert exported.schema == pq.read_table(one).schema
    assert exported.to_pylist() == pq.read_table(one).to_pylist()
    kept = [c for c in pq.read_schema(processed).names if c not in ("anonymized_identifier", "row_hash")]
    assert exported.to_pylist() == pq.read_table(processed, columns=kept).to_pylist()
