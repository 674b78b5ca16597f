"""govarchive's Scrapy project: settings, items, middlewares, pipelines and the extractor."""
