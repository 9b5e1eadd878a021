# Shortcuts; the README's two commands are the source of truth.
PY := .venv/bin/python

.venv:
	python3 -m venv .venv

run: .venv
	.venv/bin/pip install -r requirements.txt && .venv/bin/streamlit run dashboard.py

test: .venv
	.venv/bin/pip install -r requirements-dev.txt && $(PY) -m pytest

test-fast: .venv
	$(PY) -m pytest -m "not e2e"

bench: .venv
	$(PY) bench/bench_report.py && $(PY) bench/bench_pages.py && $(PY) bench/bench_snapshot.py

.PHONY: run test test-fast bench
