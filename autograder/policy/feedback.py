"""How much a failed hidden case tells the student, and how often (a course's setting).

A course chooses, in its ``course.toml``::

    [feedback]
    hidden = "mistake"   # none | mistake | full (the default)
    per_day = 3          # on Gradescope: submissions per 24 hours that get that level
    after = "none"       # the level once the day's budget is spent (default none)

* ``full``: a hidden case's failure says what is wrong as a public one does (never its
  expected values, which hidden feedback never shows);
* ``mistake``: which hidden case failed and, where the answer is one of the course's known
  mistakes, that mistake's name and hint;
* ``none``: which hidden case failed, and the score.

Public cases always get the full feedback. The budget needs the previous submissions, which
only Gradescope gives (``submission_metadata.json``): each results.json dlgrade writes
records the level it gave in ``extra_data.hidden_feedback``, and :func:`budgeted` counts the
detailed ones among the previous submissions of the last 24 hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LEVELS = ("none", "mistake", "full")
#: Where a results.json says which level it gave (Gradescope's ``extra_data``).
RECORD_KEY = "hidden_feedback"


class FeedbackError(ValueError):
    """A ``[feedback]`` table or a level that cannot be used (one line)."""


@dataclass(frozen=True)
class Feedback:
    """A course's hidden-case feedback: its level, and a daily budget of it (0: none)."""

    hidden: str = "full"
    per_day: int = 0
    after: str = "none"


def level(text: str, where: str = "hidden feedback") -> str:
    """``text`` if it is a level, else a :class:`FeedbackError` naming the levels."""
    if text not in LEVELS:
        raise FeedbackError(f"{where} must be one of {', '.join(LEVELS)}, not {text!r}")
    return text


def read_feedback(table: Any, where: str) -> Feedback:
    """The ``[feedback]`` table of a course.toml (absent: full feedback, no budget)."""
    if table is None:
        return Feedback()
    if not isinstance(table, dict):
        raise FeedbackError(f"{where}: [feedback] must be a table")
    unknown = set(table) - {"hidden", "per_day", "after"}
    if unknown:
        raise FeedbackError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} in "
                            "[feedback]")
    per_day = table.get("per_day", 0)
    if type(per_day) is not int or per_day < 0:
        raise FeedbackError(f"{where}: [feedback] per_day must be a whole number >= 0")
    hidden = level(str(table.get("hidden", "full")), f"{where}: [feedback] hidden")
    after = level(str(table.get("after", "none")), f"{where}: [feedback] after")
    if per_day and LEVELS.index(after) >= LEVELS.index(hidden):
        raise FeedbackError(f"{where}: [feedback] after ({after}) must say less than hidden "
                            f"({hidden}), or the budget changes nothing")
    return Feedback(hidden, per_day, after)


def feedback_table(feedback: Feedback) -> str:
    """``feedback`` as a course.toml ``[feedback]`` table ("" for the default)."""
    if feedback == Feedback():
        return ""
    return (f'[feedback]\nhidden = "{feedback.hidden}"\nper_day = {feedback.per_day}\n'
            f'after = "{feedback.after}"\n')


def ration(message: str, where: str, at: str, mistake: str = "") -> str:
    """What one failed hidden case says at level ``at``: its full ``message``; or ``where``
    it failed, with the known ``mistake``'s name at ``mistake``; or just ``where``."""
    if not message or at == "full":
        return message
    said = f"{where}: wrong"
    if at == "mistake" and mistake:
        said += f". This matches a common mistake: {mistake.rstrip('.')}."
    return said


def budgeted(feedback: Feedback, metadata: Mapping[str, Any]) -> tuple[str, str]:
    """The level a Gradescope submission gets under the course's daily budget, and a line
    for the student saying so ("" without a budget). ``metadata``: Gradescope's
    submission_metadata.json; its ``previous_submissions`` carry their results.json."""
    from dlgrade.policy.deadlines import DAY, DeadlineError, parse_datetime

    if not feedback.per_day:
        return feedback.hidden, ""

    def when(text: Any) -> datetime | None:
        try:
            return parse_datetime(text) if isinstance(text, str) else None
        except DeadlineError:
            return None

    now = when(metadata.get("created_at"))
    previous = metadata.get("previous_submissions")
    if now is None or not isinstance(previous, list):  # nothing to count against: allow it
        return feedback.hidden, (f"Detailed feedback on hidden cases: {feedback.per_day} "
                                 "submission(s) a day get it.")
    used = []
    for item in previous:
        if not isinstance(item, dict):
            continue
        results = item.get("results")
        extra = results.get("extra_data") if isinstance(results, dict) else None
        at = when(item.get("submission_time"))
        if (at is not None and now - DAY < at <= now and isinstance(extra, dict)
                and extra.get(RECORD_KEY) == feedback.hidden):
            used.append(at)
    if len(used) < feedback.per_day:
        return feedback.hidden, (f"Detailed feedback on hidden cases: this is submission "
                                 f"{len(used) + 1} of {feedback.per_day} in 24 hours that "
                                 "gets it.")
    again = sorted(used)[len(used) - feedback.per_day] + DAY
    return feedback.after, (f"Detailed feedback on hidden cases: all {feedback.per_day} of "
                            "the last 24 hours are used, so hidden cases say "
                            f"{_SAYS[feedback.after]} this time; the next detailed feedback "
                            f"is from {again.isoformat(timespec='minutes')}.")


_SAYS = {"none": "only which case failed", "mistake": "only the known mistake's name",
         "full": "everything"}
