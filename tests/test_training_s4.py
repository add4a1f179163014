"""The shipped density study (models/study/) agrees with itself and with the README's table.

No training: the files are the output of `neurosim train --study density --dataset fashion-mnist
--out models/study` (README "Accuracy against density"). A study re-run that changes a number, a
hand edit of one file, or a README table that no longer quotes the files fails here.
"""
import csv
import json
import pathlib

import pytest

from neurosim.training import study

ROOT = pathlib.Path(__file__).resolve().parent.parent
STUDY = ROOT / "models" / "study"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_FILE_BYTES = 300_000  # the shipped outputs stay small (about 100 KB in all)


def shipped():
    """(csv rows as dicts of strings, density.json, runs.json records)."""
    with open(STUDY / "density.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    doc = json.loads((STUDY / "density.json").read_text(encoding="utf-8"))
    runs = json.loads((STUDY / "runs.json").read_text(encoding="utf-8"))
    return rows, doc, runs


def readme_row(row):
    """The README table line that quotes one ``summarise`` row (density.json "rows")."""
    dense = row["density"] == 1.0
    label = "dense" if dense else f"{100 * row['density']:g} %"
    per_seed = " / ".join(row["test_accuracy_per_seed"].split())
    ours = f"{per_seed} % ({row['test_accuracy_mean']:.2f} ± {row['test_accuracy_std']:.2f})"
    gap = row["gap_to_dense"]
    below = "—" if dense else (f"{gap:.2f}" if gap >= 0 else f"−{-gap:.2f} (above)")
    paper = f"{row['published_accuracy']:.2f} ± {row['published_se']:.2f} %"
    paper_below = "—" if dense else f"{row['published_gap_to_dense']:.2f}"
    return f"| {label} | {ours} | {below} | {paper} | {paper_below} |"


def sparse_densities(doc):
    """The sparse densities of the shipped table (the study's defaults, or the subset shipped)."""
    densities = [row["density"] for row in doc["rows"] if row["density"] < 1]
    assert set(densities) <= set(study.DENSITIES)
    return densities


def test_runs_are_every_density_and_seed_once_and_match_the_json():
    _, doc, runs = shipped()
    wanted = sorted((d, s) for d in (1.0, *sparse_densities(doc)) for s in study.SEEDS)
    assert sorted((r["density"], r["seed"]) for r in runs) == wanted
    assert doc["runs"] == runs
    assert {(r["dataset"], tuple(r["hidden"]), r["epochs"]) for r in runs} == {
        ("fashion-mnist", (300, 100), 100)}
    assert (doc["dataset"], doc["hidden"], doc["epochs"]) == ("fashion-mnist", [300, 100], 100)


def test_table_is_the_summary_of_the_runs():
    rows, doc, runs = shipped()
    densities = sparse_densities(doc)
    expected = study.summarise(runs, densities)
    assert len(doc["rows"]) == len(expected) == len(rows) == len(densities) + 1
    for got, want in zip(doc["rows"], expected):
        assert got.keys() == want.keys()
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, abs=1e-3), key
            else:
                assert got[key] == value, key
    # the csv holds exactly the json's rows (csv.DictWriter writes str() of each value)
    assert rows == [{k: str(v) for k, v in row.items()} for row in doc["rows"]]


def test_published_column_is_dettmers_results_file():
    _, doc, _ = shipped()
    for row in doc["rows"]:
        accuracy, se = study.PUBLISHED[row["density"]]
        assert (row["published_accuracy"], row["published_se"]) == (accuracy, se)
    assert doc["published"] == study.PUBLISHED_SOURCE


def test_readme_table_quotes_the_shipped_study():
    _, doc, _ = shipped()
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    missing = [readme_row(row) for row in doc["rows"] if readme_row(row) not in readme]
    assert missing == []


def test_readme_row_format_catches_a_changed_number():
    _, doc, _ = shipped()
    row = dict(doc["rows"][1], test_accuracy_mean=doc["rows"][1]["test_accuracy_mean"] + 0.01)
    assert readme_row(row) != readme_row(doc["rows"][1])
    assert readme_row(row) not in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()


def test_shipped_files_are_small_and_the_plot_is_a_png():
    for name in ("runs.json", "density.csv", "density.json", "density.png"):
        assert 0 < (STUDY / name).stat().st_size <= MAX_FILE_BYTES, name
    assert (STUDY / "density.png").read_bytes()[:8] == PNG_MAGIC
