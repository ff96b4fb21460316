# moderation: every target that needs the environment builds it first, so a fresh clone needs
# only `make test` or `make serve`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATASETS ?= $(abspath ../shared/datasets)
MODEL  ?= moderation/default_model
REPORT ?= docs/evaluation
export MODERATION_DATASETS ?= $(DATASETS)

.PHONY: install test test-fast lint train evaluate bench score serve datacard clean
.PHONY: data train-default evaluate-default promote rollback registry-status editors-report bench-scale

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,train,bench]'
	touch $(STAMP)

install: $(STAMP) ## virtual environment with everything from setup.cfg

test: $(STAMP) ## the whole test suite
	$(PY) -m pytest -q

test-fast: $(STAMP) ## skip tests marked slow
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check moderation training webhook review tests

train-default: $(STAMP) ## train the shipped default model into $(MODEL) (needs the public datasets)
	$(PY) -m training.train --output $(MODEL)

evaluate-default: $(STAMP) ## evaluation report and model card for $(MODEL)
	$(PY) -m training.evaluate --model $(MODEL) --report $(REPORT)

# The retraining loop (docs/retraining.md); the registry is registry/ or $(MODERATION_REGISTRY).
data: $(STAMP) ## export the moderators' decisions from the service's database, with a data report
	$(PY) -m training.retrain data

train: $(STAMP) ## train a candidate (default sources, data/, exported decisions) into the registry; PUBLIC_ROWS=N caps each public source
	$(PY) -m training.retrain train $(if $(PUBLIC_ROWS),--public-rows $(PUBLIC_ROWS))

evaluate: $(STAMP) ## compare the newest candidate with the live model; prints the verdict
	$(PY) -m training.retrain evaluate

promote: $(STAMP) ## make the candidate live if it is not worse (FORCE=1 REASON="..." overrides, logged)
	$(PY) -m training.retrain promote $(if $(FORCE),--force) --reason "$(REASON)"

rollback: $(STAMP) ## make the previous live version live again
	$(PY) -m training.retrain rollback --reason "$(REASON)"

registry-status: $(STAMP) ## live version, candidate, versions and recent history
	$(PY) -m training.retrain status

editors-report: $(STAMP) ## reader reaction per site and article, with charts, into reports/editors/
	$(PY) -m webhook editors-report --output reports/editors

datacard: $(STAMP) ## rewrite data/README.md (the corpus data card) from the corpus files
	$(PY) -m training.datacard

bench: $(STAMP) ## speed and memory benchmarks, written to docs/benchmarks.md
	$(PY) -m training.bench --model $(MODEL) --output docs/benchmarks.md

bench-scale: $(STAMP) ## a million comments scored in chunks, retraining on 300k rows: docs/benchmarks-scale.md
	$(PY) -m training.bench_scale --output docs/benchmarks-scale.md

serve: $(STAMP) ## the service on the shipped model and an embedded SQLite database
	$(VENV)/bin/gunicorn -c webhook/gunicorn_conf.py "webhook:create_app()"

score: $(STAMP) ## the main job: score the sample comments with the shipped model and policy
	@$(VENV)/bin/moderation score --input data/sample/comments.jsonl --articles data/sample/articles.jsonl \
		--policy data/policy.toml --output -

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
