# Every target installs into .venv itself when needed.
PY      := .venv/bin/python
STAMP   := .venv/.installed
PORT    ?= 8765
REPLICA := http://127.0.0.1:$(PORT)
DB      ?= data/govarchive.db

.PHONY: install demo test test-long bench manifest clean

$(STAMP): pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

test-long: $(STAMP)
	$(PY) -m pytest -q -m long

demo: $(STAMP)
	bash bench/demo.sh $(PORT) $(DB)

bench: $(STAMP)
	$(PY) -m bench.run

manifest: $(STAMP)
	$(PY) -m seeds.replica.site --write-manifest

clean:
	rm -rf .venv data .pytest_cache build *.egg-info
