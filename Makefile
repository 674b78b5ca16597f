# Every target installs into .venv itself when needed.
PY      := .venv/bin/python
BIN     := .venv/bin
STAMP   := .venv/.installed
PORT    ?= 8765
REPLICA := http://127.0.0.1:$(PORT)
DB      ?= data/govarchive.db
PORTALS := panjin shuangtaizi chongqing_kjj linyi_kjj linyi_fgw

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

bench: $(STAMP)
	$(PY) -m bench.run

manifest: $(STAMP)
	$(PY) -m seeds.replica.site --write-manifest

# Replica up, every portal crawled into $(DB), replica switched to epoch 2, re-crawled,
# then stats, the changes and the diff of one amended document. The replica stops at the end.
demo: $(STAMP)
	@set -e; \
	start_replica() { $(BIN)/govarchive replica --port $(PORT) --epoch $$1 & echo $$! > .replica.pid; \
	  $(PY) -c "import socket,time,sys; [time.sleep(0.2) for _ in range(100) if socket.socket().connect_ex(('127.0.0.1',$(PORT)))]"; }; \
	stop_replica() { kill $$(cat .replica.pid) 2>/dev/null; wait $$(cat .replica.pid) 2>/dev/null || true; rm -f .replica.pid; }; \
	trap stop_replica EXIT; \
	start_replica 1; \
	for s in $(PORTALS); do echo "== scrapy crawl $$s (epoch 1)"; \
	  $(BIN)/scrapy crawl $$s -s REPLICA=$(REPLICA) -s ARCHIVE_DB=$(DB) -s LOG_LEVEL=INFO 2>&1 | grep -E "Spider opened|Crawled|archive |Closing spider"; done; \
	stop_replica; T=$$($(PY) -c "from datetime import datetime,timezone; print(datetime.now(timezone.utc).isoformat(timespec='seconds'))"); \
	start_replica 2; \
	for s in $(PORTALS); do echo "== scrapy crawl $$s (epoch 2; REVISIT_MIN=0: check every archived page now)"; \
	  $(BIN)/scrapy crawl $$s -s REPLICA=$(REPLICA) -s ARCHIVE_DB=$(DB) -s LOG_LEVEL=INFO -s REVISIT_MIN=0 2>&1 | grep -E "Spider opened|Crawled|revisiting|archive |Closing spider"; done; \
	echo "== govarchive stats"; $(BIN)/govarchive stats --db $(DB); \
	echo "== govarchive changes --since $$T"; $(BIN)/govarchive changes --db $(DB) --since $$T; \
	url=$$($(BIN)/govarchive changes --db $(DB) --since $$T | awk -F'\t' '$$2=="changed" && $$5 ~ /答复/ {print $$4; exit}'); \
	echo "== govarchive diff $$url"; $(BIN)/govarchive diff --db $(DB) "$$url"

clean:
	rm -rf .venv data .pytest_cache build *.egg-info .replica.pid
