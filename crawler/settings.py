"""Scrapy settings for govarchive. Polite by default against real government servers.

Every policy is a component behind a setting: the revisit policy is a spider middleware;
conditional requests, crash-safe resume and retry backoff are downloader middlewares; extraction and archiving are item pipelines; the
replica is a download handler switched on by ``-s REPLICA=http://127.0.0.1:8765``.
"""

BOT_NAME = "govarchive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "crawler.commands"     # crawl: arguments checked up front, honest exit codes

USER_AGENT = ("govarchive/0.1 (+https://github.com/govarchive/govarchive; archive of public government "
              "documents for research)")
ROBOTSTXT_OBEY = True
# No cookies: static government pages need none, a challenge's cookie must not be replayed (that
# would be working around it), and Scrapy's cookie domain checks fetch the public suffix list
# from the network the first time they run.
COOKIES_ENABLED = False

# Politeness: at most 2 concurrent requests per host, at least a second between them.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
# Redirects are followed only within the spider's hosts; these hosts too ("*": any public host).
# Loopback, private, link-local and metadata addresses are never connected to.
REDIRECT_ALLOWED_HOSTS = []
# Challenge pages (anti-bot scripts, WAF blocks, rate notices) slow their host down to one request
# every CHALLENGE_DELAY seconds; after CHALLENGE_STOP of them the host is stopped for the crawl.
CHALLENGE_DELAY = 30.0
CHALLENGE_STOP = 3

# Retries with exponential backoff for 5xx, 429 and network errors; never for 404/410.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0          # seconds before the first retry, doubling each time
RETRY_BACKOFF_MAX = 60.0

DOWNLOAD_HANDLERS = {
    "http": "crawler.handlers.ReplicaAwareDownloadHandler",
    "https": "crawler.handlers.ReplicaAwareDownloadHandler",
}
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.AddressGuardMiddleware": 50,
    "crawler.middlewares.ResumeMiddleware": 60,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.SharedRobotsTxtMiddleware": 100,
    "crawler.middlewares.TruncationMiddleware": 595,       # sees the body before HttpCompression (590)
    "crawler.middlewares.ChallengeMiddleware": 40,         # sees the final response: after redirects
    "crawler.middlewares.ConditionalRequestMiddleware": 580,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
}
# Revisit policy for archived detail pages: check one again once the time since its last check
# reaches REVISIT_FACTOR x the time it had gone unchanged, between REVISIT_MIN and REVISIT_MAX
# seconds. List pages and new documents are always fetched. REVISIT_MIN = 0: check everything.
REVISIT_MIN = 6 * 3600
REVISIT_MAX = 30 * 86400
REVISIT_FACTOR = 0.5

SPIDER_MIDDLEWARES = {"crawler.middlewares.RevisitPolicyMiddleware": 550}

# Attachments (附件: PDF, DOC/DOCX, WPS, XLS/XLSX, OFD, ZIP) linked from archived pages are fetched on
# the same crawl and archived as documents of kind "attachment", up to ATTACHMENT_MAXSIZE bytes each.
# ATTACHMENT_OCR: scanned pages (no text layer, flagged needs_ocr) are read by Tesseract
# (apt install tesseract-ocr tesseract-ocr-chi-sim).
ATTACHMENTS_ENABLED = True
ATTACHMENT_MAXSIZE = 50 * 1024 * 1024
ATTACHMENT_OCR = False

# JOBDIR: a disk queue that survives a SIGKILL (the archive says what is done).
SCHEDULER_DISK_QUEUE = "crawler.queues.CrashSafeDiskQueue"

ITEM_PIPELINES = {
    "crawler.pipelines.ExtractionPipeline": 300,
    "crawler.pipelines.AttachmentsPipeline": 700,
    "crawler.pipelines.ArchivePipeline": 800,
}
LOG_FORMATTER = "crawler.pipelines.QuietDropFormatter"

# Responses waiting for extraction and the archive, per crawl: backpressure on the downloader
# keeps memory flat when pipelines are slower than the network.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000

# Extraction runs in this many worker processes (default: cores - 1, at least 1; 0: in-process).
EXTRACTION_WORKERS = None
EXTRACTION_TIMEOUT = 60.0         # seconds a page may take; longer is an error fetch (0: no limit)

# The archive (overridable: -s ARCHIVE_DB=…, or GOVARCHIVE_DB in the environment).
ARCHIVE_DB = None
ARCHIVE_BATCH_SIZE = 25           # items per transaction
ARCHIVE_BATCH_SECONDS = 2.0       # … or this long, whichever comes first

# Replica mode: every request goes to the offline replica; the archive records the real URLs.
REPLICA = None

FEED_EXPORT_ENCODING = "utf-8"
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
REMOTE_CONTROL_ENABLED = False     # no listening port on a crawler of government sites
