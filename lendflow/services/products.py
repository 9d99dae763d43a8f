"""Product use cases: checking a spec file (more arrive with the loan engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lendflow.config.loading import read_yaml
from lendflow.config.policy import load_policy
from lendflow.config.product_spec import highest_apr, parse_product, policy_problems
from lendflow.domain.errors import BadInput, Problems


@dataclass
class ProductCheck:
    """The outcome of checking a spec: every problem found, or the key figures."""

    source: str
    problems: list[str] = field(default_factory=list)
    code: str | None = None
    highest_apr: Decimal | None = None
    cap: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "ok": self.ok,
            "code": self.code,
            "highest_apr": None if self.highest_apr is None else str(self.highest_apr),
            "cap": self.cap,
            "problems": self.problems,
        }


def check_product_file(path: Path, policy_path: Path | None = None) -> ProductCheck:
    """Check a spec file against the schema and the policy, collecting every problem."""
    source = str(path)
    check = ProductCheck(source=source)
    try:
        data = read_yaml(path)
        spec = parse_product(data, source)
    except Problems as exc:
        check.problems = exc.problems
        return check
    except BadInput as exc:
        check.problems = [exc.message]
        return check
    policy = load_policy(policy_path)
    check.code = spec.code
    check.cap = policy.apr_cap.describe()
    check.highest_apr = highest_apr(spec).quantize(Decimal("0.01"))
    check.problems = policy_problems(spec, policy, source)
    return check
