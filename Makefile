# Every target installs into .venv itself when needed.
PY      := .venv/bin/python
BIN     := .venv/bin
STAMP   := .venv/.installed
PORT    ?= 8765
REPLICA := http://127.0.0.1:$(PORT)
DB      ?= data/govarchive.db
PORTALS := panjin shuangtaizi chongqing_kjj linyi_kjj linyi_fgw suzhou_kjj

.PHONY: install demo test test-long bench bench-attachments bench-distributed eval manifest clean

$(STAMP): pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  echo "browser test skipped: it needs Chromium (apt install chromium chromium-driver fonts-noto-cjk)"
	@command -v soffice >/dev/null || \
	  echo "DOC/WPS attachment tests skipped: the replica writes those files with LibreOffice (apt install libreoffice-writer-nogui)"
	@command -v tesseract >/dev/null || \
	  echo "OCR test skipped: it needs Tesseract (apt install tesseract-ocr tesseract-ocr-chi-sim)"
	$(PY) -m pytest -q

test-long: $(STAMP)
	$(PY) -m pytest -q -m long

bench: $(STAMP)
	$(PY) -m bench.run

# Attachment text extraction per format (files/s, MB/s) and the archive size attachments add.
bench-attachments: $(STAMP)
	$(PY) -m bench.attachments

# Crawl jobs on Celery (Redis, the replica with synthetic portals, 1-3 crawl workers): pages/s and merge speed.
bench-distributed: $(STAMP)
	$(PY) -m bench.distributed

# Extraction quality on every set (the replica, and ../shared/corpus: realworld, cwce, aeb) beside
# bare trafilatura and readability-lxml. `make eval V=-v` adds per-page detail.
eval: $(STAMP)
	$(PY) -m bench.eval $(V)

manifest: $(STAMP)
	$(PY) -m seeds.replica.site --write-manifest

# First run: replica up, every portal crawled into $(DB), the replica switched to its later state
# (epoch 2: amended, removed and new documents; one page answers with an anti-bot challenge and one
# with a not-found page, recorded as blocked and soft_404, never as versions), every portal
# re-crawled checking every page, then a summary of each crawl and the diff of one amended letter.
# Run again on an existing archive: the portals are crawled once more as they are now, and the
# revisit policy at work shows: nothing new, recently checked pages not due. The replica stops
# at the end either way.
demo: $(STAMP)
	@set -e; \
	start_replica() { $(BIN)/govarchive replica --port $(PORT) --epoch $$1 $$2 2>/dev/null & echo $$! > .replica.pid; \
	  $(PY) -c "import socket,time,sys; [time.sleep(0.2) for _ in range(100) if socket.socket().connect_ex(('127.0.0.1',$(PORT)))]"; }; \
	stop_replica() { kill $$(cat .replica.pid) 2>/dev/null; wait $$(cat .replica.pid) 2>/dev/null || true; rm -f .replica.pid; }; \
	crawl_all() { for s in $(PORTALS); do printf '   scrapy crawl %s\n' $$s; \
	  $(BIN)/scrapy crawl $$s -s REPLICA=$(REPLICA) -s ARCHIVE_DB=$(DB) -s LOG_LEVEL=ERROR "$$@"; done; }; \
	trap stop_replica EXIT; \
	if [ -f $(DB) ]; then \
	  echo "== $(DB) exists: crawling every portal again as it is now (the revisit policy decides what to check)"; \
	  start_replica 2; crawl_all; \
	  echo "== what these runs found: nothing new; pages checked recently are not due (not_due)"; \
	  $(BIN)/govarchive runs --db $(DB) --last 5 --table; \
	else \
	  echo "== crawling every portal of the replica (epoch 1) into $(DB)"; start_replica 1; crawl_all; stop_replica; \
	  echo "== the portals change (epoch 2), and two pages answer with a challenge and a not-found page;"; \
	  echo "   crawling again, checking every archived page (REVISIT_MIN=0)"; \
	  start_replica 2 "--faults seeds/replica/demo-faults.json"; crawl_all -s REVISIT_MIN=0; \
	  echo "== what each crawl found"; $(BIN)/govarchive runs --db $(DB) --table; \
	fi; \
	url=$$($(BIN)/govarchive changes --db $(DB) --since 1970-01-01 --tsv | awk -F'\t' '$$2=="changed" && $$7 ~ /答复/ {print $$4; exit}'); \
	echo "== govarchive diff $$url"; $(BIN)/govarchive diff --db $(DB) "$$url"; \
	files=$$($(BIN)/govarchive list --db $(DB) --kind attachment --tsv | tail -n +2 | wc -l); \
	echo "== $$files attachments (PDF, DOC, DOCX, WPS, XLS, XLSX, OFD) archived as documents of their own:"; \
	echo "   govarchive list --db $(DB) --kind attachment; govarchive show URL lists a page's files"; \
	echo "== browse it: govarchive serve --db $(DB), then open http://127.0.0.1:8001/-/search"; \
	echo "   changes as a feed: http://127.0.0.1:8001/-/feeds.atom (per portal: /-/feeds/panjin.atom, /-/feeds/panjin/npc_reply.atom)"

clean:
	rm -rf .venv data .pytest_cache build *.egg-info .replica.pid
