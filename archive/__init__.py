"""The versioned archive: a library first (``archive.store.Archive``), the ``govarchive`` CLI over it."""
