"""The background worker: e-mail for inbox items, and the reminders, on huey.

The queue lives in Redis when SIP_REDIS_URL is set (production: several web processes and
one worker share it) and otherwise in a SQLite file in the instance folder, so `make run`
needs nothing more than `flask worker` beside the web server. Tasks run in an app context
of the app that made the queue and commit through db.commit(), like a request.

What must never be lost is in the database, not the queue: a delivery row is written with
its inbox item, and the sweep queues again what a task did not send.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from huey import Huey, RedisHuey, SqliteHuey, crontab

from sip_tracker import clock
from sip_tracker.db import commit, db, utcnow

log = logging.getLogger(__name__)


class DeliveryNotSent(Exception):
    """An e-mail did not go out this time: huey tries the task again after a delay."""


class SipQueue:
    """The app's task queue (app.extensions["sip_queue"]).

    huey is built on first use, so creating the app opens no file and no connection.
    """

    def __init__(
        self,
        app: Flask,
        *,
        name: str | None = None,
        redis_url: str | None = None,
        sqlite_path: str | None = None,
    ) -> None:
        self.app = app
        self.name = name or app.config["QUEUE_NAME"]
        self.redis_url = redis_url if redis_url is not None else app.config["QUEUE_REDIS_URL"]
        self.sqlite_path = sqlite_path or app.config["QUEUE_SQLITE_PATH"]
        self._huey: Huey | None = None
        self._lock = threading.Lock()
        self.tasks: dict[str, Any] = {}

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                if self.redis_url:
                    huey: Huey = RedisHuey(self.name, url=self.redis_url, results=False)
                else:
                    huey = SqliteHuey(self.name, filename=self.sqlite_path, results=False)
                self._register_tasks(huey)
                self._huey = huey
            return self._huey

    def close(self) -> None:
        """Let go of the queue's file or its Redis connections (a test's own queue)."""
        with self._lock:
            if self._huey is not None:
                self._huey.storage.close()
                pool = getattr(self._huey.storage, "pool", None)
                if pool is not None:
                    pool.disconnect()
                self._huey = None

    def task(self, name: str) -> Any:
        """One of the queue's tasks (a huey TaskWrapper: call it to queue it), by name."""
        _ = self.huey  # registers the tasks on first use
        return self.tasks[name]

    def enqueue_deliveries(self, delivery_ids: Iterable[int]) -> None:
        """Queue committed e-mail deliveries; each is tried with retries.

        Called after the commit: a queue that is down must not turn a saved change into an
        error page. The rows wait as pending, and the sweep queues them once it is back.
        """
        ids = list(delivery_ids)
        try:
            send = self.task("send_email")
            for delivery_id in ids:
                send(delivery_id)
        except Exception as error:
            log.warning(
                "could not queue %d e-mail deliveries (the sweep will): %s",
                len(ids),
                type(error).__name__,
            )

    def _in_app(self, work: Callable[[], Any]) -> Any:
        """Run the work in an app context of our app, in its default language, and commit."""
        with self.app.app_context(), force_locale(self.app.config["BABEL_DEFAULT_LOCALE"]):
            try:
                result = work()
            except BaseException:
                db.session.rollback()
                raise
            commit()
            return result

    def _register_tasks(self, huey: Huey) -> None:
        from sip_tracker.inbox import mail
        from sip_tracker.inbox.reminders import run_reminders

        config = self.app.config

        @huey.task(
            retries=config["MAIL_RETRIES"],
            retry_delay=config["MAIL_RETRY_DELAY"],
            context=True,
            name="send_email",
        )
        def send_email(delivery_id: int, task: Any) -> None:
            last_try = task.retries == 0
            if not self._in_app(lambda: mail.deliver(delivery_id, last_try=last_try)):
                raise DeliveryNotSent(f"e-mail delivery {delivery_id} not sent; tried again later")

        @huey.task(name="send_email_once")
        def send_email_once(delivery_id: int) -> None:
            """One more try of a failed delivery (the sweep's): it stays failed if this fails."""
            self._in_app(lambda: mail.deliver(delivery_id, last_try=True))

        @huey.periodic_task(crontab(minute="*/5"), name="sweep_email")
        def sweep_email() -> None:
            """Queue again the deliveries no task sent: nothing is lost while the queue was down."""
            lost, failed = self._in_app(lambda: mail.deliveries_to_sweep(utcnow()))
            for delivery_id in lost:
                send_email(delivery_id)
            for delivery_id in failed:
                send_email_once(delivery_id)

        @huey.periodic_task(crontab(minute="0"), name="send_reminders")
        def send_reminders() -> None:
            """The reminder job, every hour: each reminder is made once, so hourly is safe, and
            a deadline that arrives in the day (or a worker that was down) is not missed."""
            self._in_app(lambda: run_reminders(clock.today()))

        self.tasks = {
            "send_email": send_email,
            "send_email_once": send_email_once,
            "sweep_email": sweep_email,
            "send_reminders": send_reminders,
        }


def init_app(app: Flask) -> None:
    app.extensions["sip_queue"] = SipQueue(app)


@click.command("worker")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    help="Threads running tasks. One runs them one after another, so an e-mail queued twice "
    "(by the sweep after a restart) is found sent the second time instead of sent again.",
)
@with_appcontext
def worker_command(workers: int) -> None:
    """Run the background worker: e-mail, the sweep and the reminders, until stopped.

    Run one worker per installation (see --workers).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    queue: SipQueue = current_app.extensions["sip_queue"]
    where = "Redis" if queue.redis_url else queue.sqlite_path
    log.info("worker for queue %s in %s", queue.name, where)
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    # Catch up at once on what came due while no worker ran, rather than at the next hour.
    queue.task("send_reminders")()
    queue.task("sweep_email")()
    consumer.run()
