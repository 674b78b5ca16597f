"""`scrapy crawl`, with the spider's arguments checked before anything starts, and an exit code
that says whether the crawl did its job: a crawl stopped because the archive could not be
written exits 1, as does one whose spider failed to start; bad arguments exit 2 with one line."""
from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

FAILED_REASONS = {"archive_write_failed"}


class Command(ScrapyCrawl):
    def process_options(self, args, opts):
        super().process_options(args, opts)
        if len(args) != 1:
            return
        from scrapy.spiderloader import get_spider_loader
        try:
            spidercls = get_spider_loader(self.settings).load(args[0])
        except KeyError:
            return          # Scrapy says which spiders exist
        check = getattr(spidercls, "check_arguments", None)
        try:
            if check:
                check(opts.spargs)
        except UsageError as e:
            print(f"scrapy crawl {args[0]}: {e}", file=sys.stderr)
            sys.exit(2)

    def run(self, args, opts):
        if len(args) != 1:
            return super().run(args, opts)
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        reason = crawler.stats.get_value("finish_reason") if getattr(crawler, "_stats", None) else None
        if self.crawler_process.bootstrap_failed or reason in FAILED_REASONS:
            self.exitcode = 1
