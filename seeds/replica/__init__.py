"""Offline replica of the portals govarchive crawls.

``site`` builds every page deterministically (documents from ``content`` and the five seeds from
``seedpages``, rendered by ``templates``), ``server`` serves them on 127.0.0.1 by Host header.
"""
