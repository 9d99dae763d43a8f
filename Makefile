# Every target creates and reuses .venv itself: a fresh clone needs only `make demo` / `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test fuzz api-fuzz scale torture bench lint format clean bytecode

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# Bytecode for lendflow's own modules, made ahead (only what changed is compiled again).
# Where PYTHONDONTWRITEBYTECODE is set, as on the project's machines, Python never
# writes it, and every process (the demo's Prefect server and notice workers, each
# test's servers) compiled every module it imported: the demo took 7 s longer.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 lendflow tests benchmarks >/dev/null

demo: bytecode
	$(BIN)/lendflow demo

# Two processes (pytest-xdist), a test file each at a time: most of a test's time is its
# workspace's set-up and its waits on the database or Prefect, which overlap well on 2 cores.
test: bytecode
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile

# Close of business on Dask and on a work pool with workers that die (README); the
# slow test waits out a silent run's heartbeat.
scale: $(STAMP)
	$(BIN)/python -m pytest -m "scale or slow" tests/flows tests/e2e

# The fuzz tests (the CLI, product and scorecard YAML, repayment files) with 1,000 examples
# each (about ten minutes); `make test` runs a few of each.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest tests/fuzz \
		tests/unit/test_repayment_file_rows.py::test_random_bytes_never_raise_anything_but_one_line_bad_input \
		tests/service/test_repayment_file_posting.py::test_random_rows_are_each_posted_or_reported_never_half_done

# Schemathesis against the API's OpenAPI document with 200 examples per operation (valid and
# invalid requests, every role's token): no 5xx, every answer as documented; `make test` runs 6.
api-fuzz: $(STAMP)
	LENDFLOW_API_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest tests/web/test_schema.py -k sqlite

# The seeded fault simulator: seeds 1..SEEDS, each a fresh book audited after every step.
# `make torture SEEDS=200`; on PostgreSQL `make torture DATABASE=postgres SEEDS=50` (the server
# in LENDFLOW_TEST_POSTGRES_URL, else postgresql+psycopg://root@127.0.0.1:5432/test).
SEEDS ?= 20
STEPS ?= 60
JOBS ?= 2
DATABASE ?= sqlite
torture: $(STAMP)
	$(BIN)/python -m lendflow.sandbox.torture --seeds $(SEEDS) --steps $(STEPS) --jobs $(JOBS) --database $(DATABASE)

bench: bytecode
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .lendflow demo-report
