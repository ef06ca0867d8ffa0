# The two commands of the README: `make demo` builds dist/ from seeds/, `make test` runs the suite.
# Each sets up what it needs first (scripts/setup.sh).
PY := .venv/bin/python
SIZES ?= 0.5,1,2

.PHONY: demo test bench bench-long clean

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

# One long article at 0.5, 1 and 2 MB (SIZES=1,2,10 for more): time and memory against length.
bench-long:
	scripts/setup.sh bench
	$(PY) bench/long_article.py --sizes $(SIZES)

clean:
	rm -rf dist/ build/ .pytest_cache
