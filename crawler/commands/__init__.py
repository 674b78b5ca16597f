"""Scrapy commands of the project (COMMANDS_MODULE): `crawl` with checked arguments and an honest exit code."""
