"""`lendflow demo`: a product's whole life and a simulated loan book, with a report."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer

from lendflow.cli.common import VerboseOption
from lendflow.cli.output import console, print_json

MARKER = ".lendflow-demo"


def demo(
    applicants: Annotated[
        int, typer.Option(help="Simulated applicants.", min=10, max=200_000)
    ] = 3_000,
    months: Annotated[int, typer.Option(help="Months of lending.", min=1, max=36)] = 12,
    seed: Annotated[
        int, typer.Option(help="Seed: the same seed gives the same report.", min=0, max=2**31 - 1)
    ] = 2025,
    out: Annotated[Path, typer.Option(help="Folder for the report.")] = Path("demo-report"),
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Run a product from charter to live, a simulated book through the real engine,
    monthly reviews and an improvement round; write a report folder."""
    began = time.perf_counter()
    _fresh_folder(out)
    _demo_environment(out / "workspace")
    from lendflow.cli.runs import prepare_flow_run

    prepare_flow_run(verbose=verbose)
    from lendflow.bootstrap import init_workspace
    from lendflow.config.settings import load_settings

    init_workspace(load_settings())
    from lendflow.flows import demo as scenario
    from lendflow.flows.runtime import batch_run

    plan = scenario.DemoPlan(applicants=applicants, months=months, seed=seed, out=out)
    run = scenario.DemoRun(plan)
    with _bars(enabled=not (json_output or verbose)) as progress, batch_run():
        scenario.take_to_market(run, progress)
        scenario.lend(run, progress)
        scenario.improve(run, progress)
        progress("report", 0, 1)
        summary = _write(scenario, run)
        progress("report", 1, 1)
    (out / MARKER).write_text("written by lendflow demo\n", encoding="utf-8")
    if json_output:
        print_json(summary)
        return
    _print_summary(summary, out, time.perf_counter() - began)


def _fresh_folder(out: Path) -> None:
    """Start from an empty folder; replace only a folder an earlier demo wrote."""
    if out.exists():
        if not (out / MARKER).exists():
            from lendflow.domain.errors import BadInput

            if any(out.iterdir()):
                raise BadInput(f"{out} exists and was not written by lendflow demo; choose --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)


def _demo_environment(home: Path) -> None:
    """The embedded defaults in a workspace of the demo's own."""
    os.environ["LENDFLOW_HOME"] = str(home.resolve())
    os.environ.pop("LENDFLOW_DATABASE_URL", None)
    os.environ["LENDFLOW_DECISIONING"] = "automated"


def _write(scenario: Any, run: Any) -> dict[str, Any]:
    from lendflow.demo.report import write_report
    from lendflow.flows.runtime import workspace

    book = run.book
    return write_report(
        workspace(),
        scenario.CODE,
        run.plan.out,
        run.plan.lending_end,
        runs=run.stage_runs,
        counts=dict(book.counts) if book else {},
        behaviours={str(k): v for k, v in book.behaviours.items()} if book else {},
        months=run.months,
    )


class _bars:
    """Rich progress bars per phase on stderr when it is a terminal; silent otherwise."""

    LABELS: ClassVar[dict[str, str]] = {
        "lifecycle": "Stages 1–5, charter to launch",
        "lending": "Lending, business day by day",
        "improvement": "Stage 7, improvement",
        "report": "Report",
    }

    def __init__(self, *, enabled: bool) -> None:
        from lendflow.cli.progress import watched

        self.enabled = enabled and watched()
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda *_: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.progress.__enter__()
        return self.update

    def update(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(self.LABELS.get(phase, phase), total=total)
        self.progress.update(self.tasks[phase], completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.__exit__(None, None, None)


def _print_summary(summary: dict[str, Any], out: Path, seconds: float) -> None:
    from rich.table import Table

    kpis, counts = summary["kpis"], summary["counts"]
    table = Table(title=f"lendflow demo — {summary['product']} as of {summary['as_of']}")
    table.add_column("")
    table.add_column("", justify="right")
    rows = [
        ("applications", counts.get("applications", 0)),
        ("approved / referred / rejected",
         " / ".join(str(counts.get(k, 0)) for k in ("approved", "referred", "rejected"))),
        ("loans paid out", kpis["disbursed_count"]),
        ("amount paid out", kpis["disbursed_amount"]),
        ("outstanding", kpis["outstanding"]),
        ("PAR30", kpis["par30"]),
        ("non-performing ratio", kpis["non_performing_ratio"]),
        ("written off", f"{kpis['written_off_count']} ({kpis['written_off_amount']})"),
        ("versions", ", ".join(f"v{v['version']} {v['state']}" for v in summary["versions"])),
        ("seconds", f"{seconds:.1f}"),
    ]  # fmt: skip
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    console.print(f"report: {out / 'index.html'}", highlight=False)
