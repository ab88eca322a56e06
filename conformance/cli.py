"""`conformance run | serve | spec`: parses the command line and delegates."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

# first: `--workers auto` weighs the CPU other processes use from this import on, so the sample runs while the CLI
# loads instead of being waited for afterwards
import conformance.workers  # noqa: F401,I001
from conformance.config import EMBEDDED_REFERENCES, PROFILES, SETTINGS, load_settings
from conformance.errors import EXIT_CONFORMANT, EXIT_USAGE, ConformanceToolError, UsageError

EPILOG = "exit codes: 0 conformant, 1 non-conformant, 2 could not start (usage, config, spec), 3 target unreachable or broken"


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="conformance", description="Conformance suite for the ibl-data-manager API.",
                                     epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,serve,report,spec}")
    run = commands.add_parser("run", help="run the suite against a target (default: the embedded reference)",
                              epilog=EPILOG)
    run.add_argument("--config", metavar="FILE", help="target config (TOML); see conformance.example.toml")
    run.add_argument("--base-url", metavar="URL", help="base URL of the target; overrides the config")
    run.add_argument("--auth-scheme", metavar="WORD",
                     help="the word before the key in the Authorization header (default Api-Token; e.g. Api-Key)")
    run.add_argument("--profile", choices=PROFILES, help="smoke | ci | full | nightly (default: ci)")
    run.add_argument("--spec", metavar="FILE", help="check against this contract instead of the shipped one")
    run.add_argument("--report-dir", metavar="DIR", help="where reports are written (default: reports/)")
    run.add_argument("--read-only", action="store_true", default=None, help="send only safe (GET) requests")
    run.add_argument("--seed", type=int, metavar="N", help="seed for generated data")
    run.add_argument("--rate-limit", type=float, metavar="N", help="at most N requests per second (fragile targets)")
    run.add_argument("--timeout", type=float, metavar="SECONDS", help="per-request timeout (default 30)")
    run.add_argument("--time-budget", type=float, metavar="SECONDS",
                     help="time for the generated tests (default: the profile's; nightly 1800)")
    run.add_argument("--operation", action="append", metavar="'METHOD /path'", dest="operations",
                     help="run only the tests of requirements on this operation (repeatable)")
    run.add_argument("--area", action="append", choices=("catalog", "core", "credentials", "general"), dest="areas",
                     help="run only the tests of this area (repeatable)")
    run.add_argument("--deviations", metavar="FILE", help="known deviations of this target (YAML)")
    run.add_argument("--embedded-reference", choices=EMBEDDED_REFERENCES,
                     help="without a target: run the reference in a thread of each worker (default) or in a child "
                          "process (`conformance serve`; the suite and the reference then use a core each)")
    run.add_argument("--requirement", action="append", metavar="ID", dest="requirements",
                     help="run only the tests of this requirement ID or ID prefix (repeatable), e.g. CAT-SEAT")
    run.add_argument("--workers", metavar="N|auto",
                     help="run tests in N parallel processes (default auto: one per core other processes leave "
                          "free, at most 2; embedded target: one reference per worker)")
    run.add_argument("--max-failures", type=int, metavar="N", help="stop after N failed tests")
    run.add_argument("--no-replay", action="store_true",
                     help="count a failure at once instead of replaying it first to tell flaky from failing")
    run.add_argument("-q", "--quiet", action="store_true", help="print less")
    serve = commands.add_parser("serve", help="start the reference implementation")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    serve.add_argument("--database", default=":memory:", metavar="PATH",
                       help="SQLite file for the data (default: in memory, lost on exit)")
    serve.add_argument("--keys-file", default="reference-keys.env", metavar="PATH",
                       help="where keys not given in CONFORMANCE_*_KEY variables are written (mode 0600)")
    serve.add_argument("--readings", metavar="NAME[,NAME...]",
                       help="serve alternate readings of the documentation instead of the reference's own "
                            "(docs/behaviour.md, 'Readings'; comma-separated). 'alternate' turns on all of them but "
                            f"{_left_out()}. Names: {', '.join(_reading_names())}")
    report = commands.add_parser("report", help="compare runs, re-render the HTML report, check a results bundle")
    report.add_argument("--report-dir", default="reports", metavar="DIR", help="where the runs are (default: reports/)")
    report.add_argument("--compare", nargs="*", metavar="RUN",
                        help="compare two runs (summary.json or history files); none given: the last two in history/")
    report.add_argument("--verify-bundle", metavar="ZIP", help="check a results bundle against its manifest")
    spec = commands.add_parser("spec", help="validate the contract and the catalog, list the operations")
    spec.add_argument("--contract", metavar="FILE", help="an OpenAPI file (default: the shipped contract)")
    spec.add_argument("--diff", nargs=2, metavar=("OLD", "NEW"),
                      help="list what changed between two contract versions, flagged breaking or not")
    return parser


def _reading_names() -> list[str]:
    """The switches `serve --readings` takes."""
    from conformance.reference.readings import ALTERNATE, SWITCH_NAMES

    return [ALTERNATE, *sorted(SWITCH_NAMES)]


def _left_out() -> str:
    """Which switches `alternate` leaves out, and why."""
    from conformance.reference.readings import CONFLICTS

    return "; ".join(f"{second} (it conflicts with {first})" for first, second, _ in CONFLICTS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `conformance` command."""
    args = build_parser().parse_args(argv)
    try:
        return {"run": _run, "serve": _serve, "spec": _spec, "report": _report}[args.command](args)
    except ConformanceToolError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`conformance spec | head`)
        sys.stderr.close()
        return EXIT_CONFORMANT


def _run(args: argparse.Namespace) -> int:
    from conformance.runner import print_reason, run

    overrides = {name: getattr(args, name, None) for name in SETTINGS}  # every setting that has a flag
    settings = load_settings(args.config, overrides=overrides)
    if args.max_failures is not None and args.max_failures < 1:
        raise UsageError("--max-failures takes a whole number from 1 up")
    extra = [f"--conformance-requirement={r}" for r in args.requirements or ()]
    extra += [f"--conformance-operation={o}" for o in args.operations or ()]
    extra += [f"--conformance-area={a}" for a in args.areas or ()]
    if args.max_failures:
        extra.append(f"--maxfail={args.max_failures}")
    if not args.no_replay:
        extra += ["--reruns", "1", "--rerun-except", "TargetError"]
    outcome = run(settings, quiet=args.quiet, extra_args=tuple(extra))
    print_reason(outcome)
    return outcome.code


def _serve(args: argparse.Namespace) -> int:
    from conformance.reference.readings import Readings, UnknownReading
    from conformance.reference.server import serve

    try:
        readings = Readings.parse(args.readings)
    except UnknownReading as exc:
        raise UsageError(f"--readings: {exc}") from None
    if not 0 <= args.port <= 65535:
        print(f"conformance: error: --port must be between 0 and 65535, got {args.port}", file=sys.stderr)
        return EXIT_USAGE
    if args.database != ":memory:" and not Path(args.database).resolve().parent.is_dir():
        raise UsageError(f"--database {args.database}: its folder does not exist; create it or choose another path")
    try:
        serve(host=args.host, port=args.port, database=args.database, keys_file=args.keys_file, readings=readings)
    except OSError as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port} ({exc.strerror or exc}): "
                         "choose another --port or --host") from None
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"--database {args.database} cannot be used ({exc}): give a SQLite file or a new path") from None
    return EXIT_CONFORMANT


def _report(args: argparse.Namespace) -> int:
    import json

    from conformance.reporting import bundle, history, html

    report_dir = Path(args.report_dir)
    if args.verify_bundle:
        problems = bundle.verify(Path(args.verify_bundle))
        for problem in problems:
            print(f"bundle: {problem}")
        print("bundle intact" if not problems else f"bundle damaged: {len(problems)} problem(s)")
        return EXIT_CONFORMANT if not problems else EXIT_USAGE
    if args.compare is not None:
        paths = [Path(p) for p in args.compare] or history.runs(report_dir)[-2:]
        if len(paths) != 2:
            raise UsageError(f"--compare needs two runs; {report_dir / 'history'} holds {len(paths)}: "
                             "run the suite twice, or name two summary files")
        runs = [history.load(p) for p in paths]
        window = [history.load(p) for p in history.runs(report_dir)[-10:-2]] if not args.compare else []
        for line in history.render(history.compare(runs[0], runs[1], window), runs[0], runs[1]):
            print(line)
        return EXIT_CONFORMANT
    summary_path = report_dir / "summary.json"
    if not summary_path.is_file():
        raise UsageError(f"{summary_path} does not exist: run `conformance run` first or give --report-dir")
    print(html.write(report_dir, json.loads(summary_path.read_text(encoding="utf-8"))))
    return EXIT_CONFORMANT


def _spec(args: argparse.Namespace) -> int:
    from conformance.spec.catalog import load_catalog
    from conformance.spec.loader import load_contract

    if args.diff:
        from conformance.spec.diff import diff

        changes = diff(load_contract(Path(args.diff[0])), load_contract(Path(args.diff[1])))
        for change in changes:
            print(change.line())
        breaking = sum(1 for c in changes if c.breaking)
        print(f"{len(changes)} change(s), {breaking} breaking")
        return EXIT_CONFORMANT
    contract = load_contract(Path(args.contract) if args.contract else None)
    catalog = load_catalog()
    print(f"contract {contract.path}: valid, version {contract.version}, {len(contract.operations())} operations")
    for operation in contract.operations():
        print(f"  {operation}")
    print(f"catalog {catalog.path}: {len(catalog.requirements)} requirements")
    return EXIT_CONFORMANT


if __name__ == "__main__":
    sys.exit(main())
