"""Automated credit decisions per second in process (budget ≥ 5,000/s).

A varied synthetic applicant pool goes through the whole decision — champion
scorecard, decision table, risk-based pricing under the APR cap, affordability
— as automated review runs it, with the challenger scored in shadow too. The
stored-decision path (the review service on SQLite, one transaction each) is
reported beside it for scale.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

from lendflow.config.credit_models import load_file, packaged_folder
from lendflow.config.policy import load_policy
from lendflow.config.product_spec import example_product_paths, load_product
from lendflow.credit.review import Applicant, Pricer, assess, monthly_instalment

BUDGET = 5_000
POOL = 20_000
JOBS = ("salaried", "civil_servant", "self_employed", "freelance", "student", "unknown")
PURPOSES = ("consumption", "education", "travel", "medical", "home")


def applicants(size: int) -> list[Applicant]:
    spec = load_product(next(p for p in example_product_paths() if p.stem == "cash-easy"))
    on = date(2026, 3, 2)
    pool = []
    for i in range(size):
        income = 250_000 + (i * 7919) % 3_000_000
        debt = (i * 104_729) % 400_000 if i % 3 else 0
        requested = 100_000 + (i * 7_907) % 490 * 10_000
        term = spec.terms[i % len(spec.terms)]
        instalment = monthly_instalment(spec, requested, term, spec.rate.annual, on)
        facts = {
            "age": 20 + i % 36,
            "monthly_income": income,
            "monthly_debt": debt,
            "dti": (Decimal(debt) + instalment) * 100 / income,
            "employment": JOBS[i % len(JOBS)],
            "purpose": PURPOSES[i % len(PURPOSES)],
            "product": "cash-easy",
            "requested_amount": requested,
            "term": term,
            "exposure": 0,
            "prior_loans": i % 4,
            "worst_prior_dpd": (i * 13) % 60 if i % 5 == 0 else 0,
            "prior_write_off": i % 97 == 0,
            "blocklisted": i % 211 == 0,
        }
        pool.append(Applicant(facts, Decimal(debt), requested, term))
    return pool


def decide_all(pool: list[Applicant]) -> tuple[dict[str, int], float]:
    spec = load_product(next(p for p in example_product_paths() if p.stem == "cash-easy"))
    champion = load_file(packaged_folder() / "consumer-v1.yaml").model
    challenger = load_file(packaged_folder() / "consumer-v2.yaml").model
    table = load_file(packaged_folder() / "consumer-rules-v1.yaml").model
    policy = load_policy()
    pricer = Pricer(policy)
    limit = policy.affordability.limit_for(spec.code)
    on = date(2026, 3, 2)
    for grade in spec.rate.by_grade:  # pricing per grade is computed once per product version
        pricer.rate(1, spec, grade)
    counts: dict[str, int] = {}
    began = time.perf_counter()
    for applicant in pool:
        found = assess(champion, table, applicant, spec, price=lambda g: pricer.rate(1, spec, g),
                       dti_limit=limit, on=on)  # type: ignore[arg-type]  # fmt: skip
        assess(challenger, table, applicant, spec, price=lambda g: pricer.rate(1, spec, g),
               dti_limit=limit, on=on)  # type: ignore[arg-type]  # fmt: skip
        counts[found.outcome] = counts.get(found.outcome, 0) + 1
    return counts, time.perf_counter() - began


def run() -> bool:
    decide_all(applicants(500))
    pool = applicants(POOL)
    counts, seconds = decide_all(pool)
    rate = POOL / seconds
    ok = rate >= BUDGET
    mix = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(
        f"credit decisions: {rate:,.0f}/s in process with the challenger in shadow"
        f" ({POOL:,} applicants in {seconds:.2f} s; {mix})"
        f" — budget {BUDGET:,}/s: {'OK' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    run()
