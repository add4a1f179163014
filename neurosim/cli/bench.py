"""``neurosim bench``: a benchmark and its yardstick side by side (simulator, bounds, mission)."""
from neurosim import bench
from neurosim.bounds.command import bench_bounds
from neurosim.cli.common import add_json_flag


def add_arguments(sub):
    p = sub.add_parser("bench", help="side-by-side benchmarks (simulator, mission, bounds)",
                       description="Run a benchmark and its yardstick in one run; report ratios.")
    p.add_argument("what", choices=["sim", "bounds", "mission"], help="which benchmark")
    p.add_argument("--batch", type=int, default=None, help="inputs per batch (default: 64 and 1)")
    p.add_argument("--ticks", type=int, default=None, help="ticks per input")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    add_json_flag(p)


def run(args):
    """The benchmark's measurements; the --json object."""
    if args.what == "bounds":
        return bench_bounds(quick=args.quick, verbose=not args.json)
    return bench.run(args.what, batch=args.batch, ticks=args.ticks, quick=args.quick,
                     verbose=not args.json)
