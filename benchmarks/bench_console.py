"""Console pages on the demo's book: the work queue and a loan page, timed server-side.

Budget: each at or under 150 ms server-side (the `Server-Timing` header the console sets,
median of the requests). The book is `lendflow demo`'s (3,000 applicants over a year,
its default), made in a temporary folder, so the pages read a real book. The pages are
asked in process (the app with its workspace, as `lendflow web` serves it), signed in as
a risk officer (the queue with referred applications) and an operator (a loan page).

`python -m benchmarks.bench_console [DEMO_FOLDER]` reuses a demo folder if given.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BUDGET_MS = 150.0
REQUESTS = 40
PASSWORD = "bench password 123"


def _demo(folder: Path) -> Path:
    if not (folder / "workspace").exists():
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from lendflow.cli import main; main()",
                "demo",
                "--out",
                str(folder),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return folder / "workspace"


def _timed(client: object, url: str) -> list[float]:
    spent = []
    for _ in range(REQUESTS):
        page = client.get(url)  # type: ignore[attr-defined]
        assert page.status_code == 200, (url, page.status_code)
        found = re.search(r"dur=([0-9.]+)", page.headers["server-timing"])
        assert found is not None
        spent.append(float(found.group(1)))
    return spent


def _signed_in(app: object, user: str) -> object:
    from fastapi.testclient import TestClient

    client = TestClient(app)  # type: ignore[arg-type]
    client.__enter__()
    page = client.get("/console/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert token is not None
    form = {"csrftoken": token.group(1), "username": user, "password": PASSWORD}
    answer = client.post("/console/login", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def run(folder: Path | None = None) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        home = _demo(folder or Path(tmp) / "demo")
        os.environ["LENDFLOW_HOME"] = str(home)
        os.environ.pop("LENDFLOW_DATABASE_URL", None)
        from lendflow.bootstrap import open_workspace
        from lendflow.identity.users import set_password
        from lendflow.loans.views import page_loans
        from lendflow.web.app import create_app

        ws = open_workspace()
        admin = ws.actor("admin")
        for user in ("risk", "ops"):
            set_password(ws, admin, user, PASSWORD)
        busiest = (
            page_loans(ws, admin, state="overdue", limit=1).items
            or page_loans(ws, admin, limit=1).items
        )
        app = create_app(ws)
        ok = True
        for user, what, url in (
            ("risk", "work queue", "/console"),
            ("ops", "loan page", f"/console/loans/{busiest[0].id}"),
        ):
            spent = _timed(_signed_in(app, user), url)
            median, worst = statistics.median(spent), max(spent)
            verdict = "OK" if median <= BUDGET_MS else "BELOW"
            ok &= median <= BUDGET_MS
            print(
                f"console {what} ({url}) on the demo book: median {median:.1f} ms,"
                f" worst {worst:.1f} ms over {REQUESTS} (budget {BUDGET_MS:.0f} ms: {verdict})"
            )
        ws.close()
        if not ok:
            print("console pages: BELOW budget (speed alone never fails `make bench`)")
        return True


if __name__ == "__main__":
    run(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
