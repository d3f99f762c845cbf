"""Models of the managed-annotation workflow (EXT, DESIGN 5.6).

Task uploads, imports, deposits and payments, project status, server-side exports,
billing, webhooks.

Money is ``decimal.Decimal``: the server sends amounts as decimal strings (``"12.50"``, as
DRF's ``DecimalField`` does), so no amount ever passes through a binary float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from synapse_async.models._converter import Model

__all__ = [
    "Balance",
    "Deposit",
    "ExportResult",
    "ImportJob",
    "Payment",
    "ProjectStatus",
    "TaskUploadResult",
    "Webhook",
    "WebhookDelivery",
]


@attrs.frozen
class TaskUploadResult(Model):
    """What ``project.upload_tasks`` did (all batches together).

    Attributes:
        project: the project id.
        task_count: how many tasks this upload created.
        task_ids: their ids, in upload order.
        total_tasks: the project's task count after the upload.
        state: the project's state after the upload (``pending_deposit`` once it has tasks).
    """

    project: int
    task_count: int
    task_ids: list[int] = attrs.field(factory=list)
    total_tasks: int = 0
    state: str = "draft"


@attrs.frozen
class ImportJob(Model):
    """A server-side import of files from a bucket into a project (``upload_from_s3``).

    Attributes:
        id: the import job id.
        project: the project id.
        source: ``s3``.
        bucket: the bucket name.
        prefix: the key prefix imported.
        file_types: the file extensions imported (empty: all).
        status: ``pending``, ``running``, ``completed`` or ``failed``.
        file_count: files imported so far.
        task_count: tasks created so far (one per file).
        error: why the job failed, when it did.
        created: when the job was created.
        finished: when it completed or failed.
    """

    id: int
    project: int
    source: str = "s3"
    bucket: str = ""
    prefix: str = ""
    file_types: list[str] = attrs.field(factory=list)
    status: str = "pending"
    file_count: int = 0
    task_count: int = 0
    error: str | None = None
    created: datetime | None = None
    finished: datetime | None = None

    @property
    def is_finished(self) -> bool:
        """True once the job completed or failed."""
        return self.status in ("completed", "failed")


@attrs.frozen
class Deposit(Model):
    """The deposit a project needs before annotation starts.

    Attributes:
        project: the project id.
        amount: the total to pay (the sum of ``breakdown``).
        currency: ISO 4217 code, e.g. ``USD``.
        task_count: the tasks the deposit covers.
        pricing_tier: the tier priced (``basic``, ``standard`` or ``premium``).
        price_per_task: the annotation price of one task (per annotator).
        breakdown: ``annotation_cost``, ``quality_assurance`` and ``platform_fee``.
        paid: True once the deposit was paid.
    """

    project: int
    amount: Decimal
    currency: str = "USD"
    task_count: int = 0
    pricing_tier: str = "standard"
    price_per_task: Decimal = Decimal("0")
    breakdown: dict[str, Decimal] = attrs.field(factory=dict)
    paid: bool = False


@attrs.frozen
class Payment(Model):
    """A paid deposit.

    Attributes:
        id: the payment id.
        project: the project id.
        amount: the amount paid.
        currency: ISO 4217 code.
        payment_method: ``credits`` (the account balance) or an external method.
        status: ``succeeded``.
        created: when it was paid.
    """

    id: int
    project: int
    amount: Decimal
    currency: str = "USD"
    payment_method: str = "credits"
    status: str = "succeeded"
    created: datetime | None = None


@attrs.frozen
class ProjectStatus(Model):
    """A project's progress (``project.get_status()``).

    Attributes:
        project: the project id.
        state: the project state.
        progress: percent of tasks completed, 0 to 100.
        total_tasks: the project's tasks.
        completed_tasks: tasks annotated so far.
        quality_metrics: e.g. ``average_agreement`` and ``honeypot_accuracy`` (0 to 1).
        estimated_completion: when the server expects the project to complete (None when it
            is not running, or its completion time once completed).
        is_complete: True once the project is ``completed``.
    """

    project: int
    state: str
    progress: float = 0.0
    total_tasks: int = 0
    completed_tasks: int = 0
    quality_metrics: dict[str, float] = attrs.field(factory=dict)
    estimated_completion: datetime | None = None
    is_complete: bool = False

    @property
    def completed(self) -> int:
        """Another name of ``completed_tasks`` (as the getting-started guide prints it)."""
        return self.completed_tasks

    @property
    def total(self) -> int:
        """Another name of ``total_tasks``."""
        return self.total_tasks


@attrs.frozen
class Balance(Model):
    """The account's credits (``client.billing.get_balance()``).

    Attributes:
        available: credits that can pay deposits.
        reserved: credits held by paid deposits of projects not yet completed.
        currency: ISO 4217 code.
    """

    available: Decimal
    reserved: Decimal = Decimal("0")
    currency: str = "USD"


@attrs.frozen
class Webhook(Model):
    """A webhook subscription.

    Attributes:
        id: the webhook id.
        url: where events are POSTed.
        events: the event types delivered (``project.started``, ``task.completed``, ...).
        project: the project whose events are delivered; None: every project's.
        active: False when deliveries are switched off.
        created: when it was created.
        secret: the signing secret; sent by the server only in the answer to the create
            call (and only when the server generated it), never listed or fetched later.
    """

    id: int
    url: str
    events: list[str] = attrs.field(factory=list)
    project: int | None = None
    active: bool = True
    created: datetime | None = None
    secret: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class WebhookDelivery(Model):
    """One event's delivery to one webhook, with its attempts.

    Attributes:
        id: the delivery id.
        webhook: the webhook id.
        event_id: the event's ``id`` (what receivers deduplicate on).
        event_type: the event's ``type``.
        status: ``pending``, ``succeeded`` or ``failed`` (attempts exhausted).
        attempts: POSTs made so far.
        response_status: the receiver's last HTTP status, if it answered.
        last_error: the last failure, if any.
        created: when the event was queued.
        modified: when the delivery last changed.
    """

    id: int
    webhook: int
    event_id: str
    event_type: str
    status: str = "pending"
    attempts: int = 0
    response_status: int | None = None
    last_error: str | None = None
    created: datetime | None = None
    modified: datetime | None = None


@attrs.frozen
class ExportResult(Model):
    """A server-side export (EXT ``POST projects/{id}/exports/``): where it went, what it held.

    Attributes:
        id: the export id.
        project: the project id.
        destination: ``s3``.
        bucket: the bucket written to.
        key: the object key written.
        uri: ``s3://bucket/key``.
        format: the format written (``json``, ``coco``, ``csv``; ``yolo``, ``voc``,
            ``spacy`` as a zip of the export folder).
        status: ``completed``.
        items: records exported.
        annotations: annotations written.
        size: bytes of the object.
        created: when the export started.
        finished: when the object was in place.
    """

    id: int
    project: int
    destination: str = "s3"
    bucket: str = ""
    key: str = ""
    uri: str = ""
    format: str = "json"
    status: str = "completed"
    items: int = 0
    annotations: int = 0
    size: int | None = None
    created: datetime | None = None
    finished: datetime | None = None
