# The two commands of the README: `make demo` builds dist/ from seeds/, `make test` runs the suite.
# Each sets up what it needs first (scripts/setup.sh).
PY := .venv/bin/python

.PHONY: demo test bench clean

demo:
	scripts/setup.sh demo
	$(PY) -m builder build seeds/ --out dist/

test:
	scripts/setup.sh test
	.venv/bin/ruff check builder tests bench
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench:
	scripts/setup.sh bench
	$(PY) bench/run.py

clean:
	rm -rf dist/ build/ .pytest_cache
