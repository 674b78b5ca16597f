"""govarchive spiders: one per portal (made from crawler/portals.toml) and `urls` for single pages."""
