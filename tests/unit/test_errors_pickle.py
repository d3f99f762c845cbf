"""SDK errors survive pickling (Ray workers and multiprocessing send them between processes)."""

from __future__ import annotations

import pickle

from synapse_async.bulk import BulkUploadReport
from synapse_async.errors import (
    APIError,
    BulkUploadError,
    JournalError,
    NotFoundError,
    TransportError,
)


def test_errors_with_keyword_only_attributes_round_trip() -> None:
    report = BulkUploadReport(collection=3, items=2, failed=1)
    for error in (
        BulkUploadError("stopped at item #1", report=report),
        JournalError("journal is corrupt", path="/j/up.journal"),
        NotFoundError("no such project", status_code=404, detail="nope", url="u"),
        TransportError("reset", method="GET", url="http://127.0.0.1/x"),
    ):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error)
        assert str(back) == str(error)
        assert back.__dict__ == error.__dict__


def test_api_error_keeps_its_status() -> None:
    back = pickle.loads(pickle.dumps(APIError("boom", status_code=502)))
    assert back.status_code == 502
