"""Bulk dataset upload: directories or iterables of files to data units and tasks.

Wired as ``client.data_collections.upload(collection, items, ...)``; the names here are what
callers build items with and get back::

    from synapse_async.bulk import scan_directory

    collection = await client.data_collections.get(7)
    items = scan_directory("photos/", file_specifications=collection)
    report = await client.data_collections.upload(7, items, project=3, journal="up.journal")
"""

from synapse_async.bulk.items import BulkItem
from synapse_async.bulk.report import BulkFailure, BulkProgress, BulkUploadReport
from synapse_async.bulk.scan import scan_directory

__all__ = ["BulkFailure", "BulkItem", "BulkProgress", "BulkUploadReport", "scan_directory"]
