"""``neurosim report`` (a mission's HTML report) and ``neurosim compare`` (missions side by
side)."""
import math
import os

from neurosim.cli.common import add_json_flag
from neurosim.report.compare import power_scale, write_compare
from neurosim.report.fmt import num, pct
from neurosim.report.html import SECTIONS, build_report, headline, missing_pieces


def add_report(sub):
    p = sub.add_parser(
        "report", help="rebuild the HTML report of a mission from its saved results",
        description="Build RESULTS_DIR/report.html (one self-contained file: figures embedded, "
                    "no network needed) from a `neurosim mission` results directory: headline "
                    "numbers, overview, accuracy, reliability (with Wilson 95 % intervals), "
                    "Erf/Fep vs observed error, faults, power, core heat maps, provenance. The "
                    "same results give the same bytes. A bad --out (a directory, a missing or "
                    "read-only directory) is refused before anything is read.")
    p.add_argument("results", metavar="RESULTS_DIR", help="a `neurosim mission` output directory")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="where to write the HTML file (default RESULTS_DIR/report.html)")
    add_json_flag(p)


def report_command(args):
    """Write the report; its path, sections, what the results lack and the headline numbers
    (non-finite ones as null) are the --json object."""
    path, res = build_report(args.results, args.out, "--out")
    h = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
         for k, v in headline(res).items()}
    result = {"report": path, "sections": [sid for sid, _ in SECTIONS],
              "not_recorded": missing_pieces(res), **h}
    if not args.json:
        print(f"report: {path}")
        if result["not_recorded"]:
            print("not recorded in the results: " + ", ".join(result["not_recorded"]))
    return result


def add_compare(sub):
    p = sub.add_parser(
        "compare", help="several missions side by side (table + figure in compare.html)",
        description="Compare mission results, e.g. the dense, sparse-momentum and NeST digits "
                    "models on one scenario: cores and power against mission-average "
                    "reliability (the share of runs meeting the accuracy requirement, averaged "
                    "over the checkpoints; over-provisioning against compactness), final "
                    "reliability (that share at the end), both with Wilson 95 % intervals, "
                    "reliability and accuracy over time. Writes compare.html and compare.json.")
    p.add_argument("results", nargs="+", metavar="DIR",
                   help="two or more mission results directories")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory, created if needed (default ./neurosim-compare); "
                        "refused before any work if it is a file or cannot be written")
    add_json_flag(p)


def compare_command(args):
    """Write compare.html and compare.json; their paths and the rows are the --json object."""
    path, rows = write_compare(args.results, args.out, "--out")
    if not args.json:
        _print_table(rows)
        print(f"compare: {path}")
    return {"html": path, "json": os.path.join(os.path.dirname(path), "compare.json"),
            "missions": rows}


def _print_table(rows):
    k, unit = power_scale(rows)
    w = max(len(r["label"]) for r in rows)
    print(f"{'mission':<{w}}  cores  power {unit:<2}  final accuracy p50  "
          f"mission-average reliability  final reliability")
    for r in rows:
        power = num(r["power_mw"] * k) if r["power_mw"] is not None else "–"
        print(f"{r['label']:<{w}}  {r['cores'] if r['cores'] is not None else '–':>5}  "
              f"{power:>8}  {pct(r['final_accuracy_p50']):>18}  "
              f"{pct(r['reliability_mission_average']):>27}  "
              f"{pct(r['reliability_final']):>17}")
