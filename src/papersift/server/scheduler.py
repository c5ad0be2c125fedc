"""The scheduler of ``papersift run``: harvest and send digests at configured times of day.

A plain thread and a loop rather than a scheduling library: there are two daily jobs and a
poll, and the loop below is short enough to read whole and to test with a fake clock.

* **Jobs** run at times of day in the digest time zone: ``harvest`` at each of
  ``schedule.harvest_times`` (Hugging Face's last ``hf_days`` days and arXiv from where the
  last harvest reached), ``digest`` at ``digest.send_time`` (build what is due, send it).
* **Catch-up.** Each job remembers the scheduled moment it last ran for (a cursor in the
  store). At start-up, and every poll, a job whose latest scheduled moment is newer than that
  runs once, so a server that was down at 07:00 sends the day's digests when it comes back,
  and a restart never runs a job twice for one moment. Both jobs are idempotent anyway
  (harvests resume from cursors, the outbox builds a digest once).
* **Poll.** Every ``digest.poll_seconds`` the outbox's due messages go out: retries after
  backoff and confirmation emails the website could not send at once.
* **Failures.** A source that is down or a full disk is the world, not a bug: one log line with
  the reason (a ``PapersiftError``'s message). Only an unexpected exception logs its traceback.
* **Stopping.** :meth:`Scheduler.stop` sets an event that every wait watches, the harvests'
  retry waits included, and waits at most a second for the thread: a daemon, so a harvest still
  blocked on a socket cannot hold up Ctrl-C. A job cut short by a stop is not recorded as run,
  so the next start runs it again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Callable
from zoneinfo import ZoneInfo

from papersift.config import parse_time
from papersift.errors import PapersiftError
from papersift.service import Papersift, days_back

if TYPE_CHECKING:
    from papersift.digest import Digests

log = logging.getLogger("papersift.scheduler")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def latest_moment(times: list[time], zone: ZoneInfo, now: datetime) -> datetime | None:
    """The most recent scheduled moment at or before ``now`` (today's or yesterday's)."""
    local = now.astimezone(zone)
    best = None
    for days in (0, 1):
        day = local.date() - timedelta(days=days)
        for at in times:
            moment = datetime.combine(day, at, tzinfo=zone)
            if moment <= local and (best is None or moment > best):
                best = moment
        if best is not None:
            return best.astimezone(timezone.utc)
    return None


def next_moment(times: list[time], zone: ZoneInfo, now: datetime) -> datetime:
    """The first scheduled moment strictly after ``now``."""
    local = now.astimezone(zone)
    candidates = [datetime.combine(local.date() + timedelta(days=d), at, tzinfo=zone)
                  for d in (0, 1) for at in times]
    return min(m for m in candidates if m > local).astimezone(timezone.utc)


@dataclass
class Job:
    name: str
    times: list[time]
    action: Callable[[], dict]


class Scheduler:
    def __init__(self, service: Papersift, digests: Digests | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        """The schedule and the email settings are the service's; ``digests``: the email interface
        (None: harvests only)."""
        self.service, self.config, self.digests, self.clock = service, service.settings, digests, clock
        config = self.config
        self.zone = config.zone
        self.jobs = [
            Job("harvest", [parse_time(t, "schedule.harvest_times") for t in config.schedule.harvest_times],
                self.harvest),
            Job("digest", [parse_time(config.digest.send_time, "digest.send_time")], self.send_digests),
        ]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="papersift-scheduler", daemon=True)
        self._last_poll: datetime | None = None

    # ---- the jobs
    def harvest(self) -> dict:
        schedule, report = self.config.schedule, {}
        sources = {
            "hf": ("Hugging Face", lambda: self.service.harvest_hf(days_back(schedule.hf_days), stop=self._stop)),
            "arxiv": ("arXiv", lambda: self.service.harvest_arxiv(set_spec=schedule.arxiv_set, stop=self._stop)),
            "arxiv-listings": ("arXiv's daily listings", lambda: self.service.harvest_arxiv_listings(
                schedule.arxiv_categories, stop=self._stop)),
        }
        for name, (label, run) in sources.items():
            if name not in schedule.sources or self._stop.is_set():
                continue
            try:
                report[name] = run().as_dict()
            except Exception as exc:  # one source down must not stop the other
                if not self._stop.is_set():  # a harvest cut short by a shutdown is no failure
                    _log_failure(f"{label} harvest", exc)
                report[name] = {"error": str(exc)}
        return report

    def send_digests(self) -> dict:
        if self.digests is None or not self.config.email_enabled:
            return {"skipped": "email is not configured"}
        return self.digests.run()

    # ---- the loop
    def run_pending(self) -> dict[str, dict]:
        """Run every job whose latest scheduled moment it has not run for yet; also poll the outbox."""
        now = self.clock()
        ran: dict[str, dict] = {}
        for job in self.jobs:
            if not job.times or self._stop.is_set():
                continue
            due = latest_moment(job.times, self.zone, now)
            cursor = self.service.job_record(job.name)
            if due is None or cursor.get("for", "") >= _iso(due):
                continue
            log.info("running %s (scheduled for %s)", job.name, _iso(due))
            try:
                result = job.action()
            except Exception as exc:  # logged; the next scheduled moment tries again
                _log_failure(job.name, exc)
                result = {"error": str(exc)}
            if self._stop.is_set():  # cut short by a shutdown: not done, so the next start runs it
                return ran
            # recorded after the run: a crash mid-job runs it again on restart (jobs are idempotent)
            self.service.record_job(job.name, {"for": _iso(due), "finished": _iso(self.clock()),
                                               "result": _short(result)})
            ran[job.name] = result
        if self.digests is not None and self.config.email_enabled and "digest" not in ran:
            poll = timedelta(seconds=self.config.digest.poll_seconds)
            if self._last_poll is None or now - self._last_poll >= poll:
                self._last_poll = now
                try:
                    report = self.digests.send_pending()
                    if report.sent or report.retry or report.failed:
                        ran["outbox"] = report.as_dict()
                except Exception as exc:
                    _log_failure("sending due outbox messages", exc)
        return ran

    def seconds_to_next(self) -> float:
        now = self.clock()
        moments = [next_moment(job.times, self.zone, now) for job in self.jobs if job.times]
        wait = min((m - now).total_seconds() for m in moments) if moments else 3600.0
        if self.digests is not None and self.config.email_enabled:
            wait = min(wait, self.config.digest.poll_seconds)  # the outbox poll
        return max(0.05, min(wait, 3600.0))  # wake at least hourly (clock changes, suspend)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception as exc:  # the loop itself must survive anything (a locked database...)
                _log_failure("scheduler round", exc)
            self._stop.wait(self.seconds_to_next())

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the loop; a job still running ends at its next wait (or with the process: a daemon)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)


def _log_failure(what: str, exc: Exception) -> None:
    """A PapersiftError says what is wrong in one line (a source unreachable, a full disk): that
    line, no traceback. Anything else is a bug, and its traceback is what finds it."""
    if isinstance(exc, PapersiftError):
        log.warning("%s failed: %s", what, exc.message)
    else:
        log.error("%s failed", what, exc_info=exc)


def _short(result: dict) -> dict:
    """A job's result, without long lists, for the cursor."""
    return {k: (_short(v) if isinstance(v, dict) else v) for k, v in result.items()
            if not isinstance(v, list) or len(v) <= 5}
