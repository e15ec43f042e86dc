# affiliate_sim build / run / test entry points.
# Everything runs inside .venv, created with a Python >= 3.12 found by
# scripts/find_python.sh (set PYTHON=/path/to/python3.12 to choose one).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
VPY  := $(VENV)/bin/python

.PHONY: venv demo test test-fast bench view docs strip-notebooks clean

venv: $(VENV)/.installed

# Three stamps, each re-made whenever pyproject.toml changes:
#   .base      the package and its dependencies (what `make demo` needs; no Ray, no view)
#   .viz       + the interactive view (solara) and its front-end files
#   .installed + the test, docs and Ray extras (what `make test` needs)
# A .venv whose interpreter is missing or older than 3.12 is thrown away and made anew.
$(VENV)/.base: pyproject.toml scripts/find_python.sh
	@if ! $(VPY) -c 'import sys; raise SystemExit(sys.version_info < (3, 12))' 2>/dev/null; then \
		py=$$(bash scripts/find_python.sh) || exit 1; \
		echo "creating $(VENV) with $$py ($$("$$py" -V 2>&1))"; \
		rm -rf $(VENV); \
		"$$py" -m venv $(VENV); \
	fi
	$(VPY) -m pip install --upgrade pip
	$(VPY) -m pip install -e .
	@touch $@

$(VENV)/.viz: $(VENV)/.base
	$(VPY) -m pip install -e '.[viz]'
	@# the view's front-end files, from the npm registry (solara's CDN may be unreachable)
	@if command -v npm >/dev/null; then $(VPY) -m affiliate_sim.viz.app --fetch-assets; \
	else echo "warning: npm not found: the interactive view needs solara's CDN (apt-get install npm)"; fi
	@touch $@

$(VENV)/.installed: $(VENV)/.viz
	$(VPY) -m pip install -e '.[dev,viz,ray,docs]'
	@touch $@

demo: $(VENV)/.base
	$(VENV)/bin/affiliate-replay out=replay
	@echo "report: replay/report.md (figures and replay.json beside it)"

test: $(VENV)/.installed
	$(VPY) -m pytest

test-fast: $(VENV)/.installed
	$(VPY) -m pytest -m "not slow"

# the interactive view (SolaraViz): open http://127.0.0.1:8765
view: $(VENV)/.viz
	$(VENV)/bin/solara run src/affiliate_sim/viz/app.py --host 127.0.0.1 --port 8765

# the documentation site (mkdocs-material) into site/; warnings are errors
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

strip-notebooks: $(VENV)/.installed
	$(VPY) scripts/strip_notebooks.py

bench: $(VENV)/.installed
	$(VPY) benchmarks/ensemble.py

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .hypothesis build dist site
	find . -path ./.git -prune -o -name '*.egg-info' -prune -exec rm -rf {} + \
		-o -name __pycache__ -prune -exec rm -rf {} + \
		-o -name .ipynb_checkpoints -prune -exec rm -rf {} +
