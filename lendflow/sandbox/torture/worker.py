"""One simulator step in a process of its own, so that a named fault point can kill it.

The simulator runs `python -m lendflow.sandbox.torture.worker '<json>'` with
`LENDFLOW_FAULT=<point>` set. If the step reaches the point, the process dies there
(exit 137, as kill -9) and the operator's rerun is the simulator's next move; if it
never reaches it, the step completes normally (exit 0). A refusal by a business rule
exits 1 with its one-line message.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from lendflow.close_of_business.sweep import close_range, id_ranges
from lendflow.config.cob import load_cob_config
from lendflow.domain.errors import LendflowError
from lendflow.loans import disbursement, repayments
from lendflow.sandbox.torture.book import BookPlace
from lendflow.sandbox.torture.breaks import install_break
from lendflow.sandbox.torture.files import post_file

REFUSED_EXIT_CODE = 1
COB_ACTOR = "system"


def run(order: dict[str, Any]) -> str:
    """Carry out one order on the book it names; what happened, in a few words."""
    place = BookPlace(home=Path(order["home"]), database_url=order["database_url"])
    ws = place.open()
    try:
        action = order["action"]
        if action == "disburse":
            ops = ws.actor("ops")
            disbursement.disburse(ws, ops, order["loan_id"], date.fromisoformat(order["as_of"]))
            return f"loan {order['loan_id']} paid out"
        if action == "close":
            config = load_cob_config().model_copy(
                update={"chunk_size": order["chunk_size"], "render_notices": order["notices"]}
            )
            first, last = date.fromisoformat(order["first"]), date.fromisoformat(order["last"])
            for lo, hi in id_ranges(ws, config.chunk_size):
                close_range(ws, lo, hi, first, last, COB_ACTOR, config)
            return f"closed {first} to {last}"
        if action == "repay":
            ops = ws.actor("ops")
            as_of = date.fromisoformat(order["as_of"])
            repayments.repay(ws, ops, order["loan_id"], order["amount"], as_of, order["key"])
            return f"loan {order['loan_id']} repaid"
        if action == "post_file":
            on = date.fromisoformat(order["on"])
            posting = post_file(ws, ws.actor("ops"), Path(order["path"]), on)
            return f"{len(posting.outcomes)} rows"
        raise ValueError(f"unknown order {action!r}")
    finally:
        ws.close()


def main(argv: list[str]) -> int:
    install_break()
    try:
        print(run(json.loads(argv[0])))
    except LendflowError as exc:
        print(exc.message, file=sys.stderr)
        return REFUSED_EXIT_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
