"""What the fuzz tests share: how many examples, and the settings they run under.

A few examples by default keep the suite's cost to seconds; `HYPOTHESIS_PROFILE=deep`
(`make fuzz`) runs the profile's 1,000 per test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"


def fuzz_settings(few: int) -> settings:
    """`few` examples by default, the deep profile's count under HYPOTHESIS_PROFILE=deep.

    The examples of one test share a workspace made once (a fixture), on purpose: each
    refused command must leave it as it was.
    """
    return settings(
        max_examples=settings.default.max_examples if DEEP else few,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
