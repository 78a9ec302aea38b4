"""When a recurring schedule is due: v1's ``ScheduleRecurrence`` rules on ``dateutil.rrule``.

v1's fields map onto an RFC 5545 recurrence rule: ``frequency`` (Minute, Hour,
Day, Week, Month) and ``interval`` to ``FREQ``/``INTERVAL``, ``hours`` /
``minutes`` / ``time_of_day`` to ``BYHOUR``/``BYMINUTE`` (Day and Week only),
``week_days`` to ``BYDAY`` (Week only), ``start_time`` to ``DTSTART`` and
``time_zone`` to the zone the times are read in. The date arithmetic is
python-dateutil's, not ours.

Example:
    >>> from datetime import datetime, timezone
    >>> spec = {"frequency": "Day", "interval": 1, "hours": [9], "minutes": [30],
    ...         "start_time": "2026-12-01T00:00:00", "time_zone": "Asia/Tokyo"}
    >>> next_due(spec, datetime(2026, 12, 1, tzinfo=timezone.utc)).isoformat()
    '2026-12-01T00:30:00+00:00'
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ...exceptions import UserErrorException

__all__ = ["FREQUENCIES", "WEEK_DAYS", "check_spec", "next_due", "last_due", "zone"]

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: v1's ``TimeZone`` names that mean a zone of the IANA database.
V1_ZONES = {"UTC": "UTC", "TokyoStandardTime": "Asia/Tokyo",
            "PacificStandardTime": "America/Los_Angeles", "EasternStandardTime": "America/New_York",
            "GMTStandardTime": "Europe/London", "WEuropeStandardTime": "Europe/Berlin",
            "ChinaStandardTime": "Asia/Shanghai", "KoreaStandardTime": "Asia/Seoul",
            "IndiaStandardTime": "Asia/Kolkata"}


def zone(name: str | None) -> Any:
    """The ``tzinfo`` for a v1 ``TimeZone`` name or an IANA name (UTC by default).

    Example:
        >>> zone("TokyoStandardTime").key
        'Asia/Tokyo'
    """
    if name in (None, "", "UTC"):
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(V1_ZONES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        raise UserErrorException(
            f"time_zone {name!r} が分かりません。'Asia/Tokyo' のような IANA の名前か "
            f"TimeZone.TokyoStandardTime などを指定してください。"
        ) from None


def _ints(values: Any, low: int, high: int, what: str) -> list[int]:
    if values is None:
        return []
    if isinstance(values, int) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, (list, tuple)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in values):
        raise UserErrorException(f"{what} は {low}〜{high} の整数のリストにしてください "
                                 f"({values!r} が渡されました)。")
    return sorted(set(values))


def check_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A recurrence spec with every field checked and normalised (v1's rules, clear messages).

    Example:
        >>> check_spec({"frequency": "Hour", "interval": 2})["interval"]
        2
    """
    frequency = spec.get("frequency")
    if frequency not in FREQUENCIES:
        raise UserErrorException(f"frequency {frequency!r} は使えません ({', '.join(FREQUENCIES)}"
                                 " のどれか)。")
    interval = spec.get("interval")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise UserErrorException(f"interval {interval!r} は 1 以上の整数にしてください "
                                 "(frequency が何回分ごとに実行するか)。")
    hours = _ints(spec.get("hours"), 0, 23, "hours")
    minutes = _ints(spec.get("minutes"), 0, 59, "minutes")
    time_of_day = spec.get("time_of_day")
    if time_of_day is not None:
        if hours or minutes:
            raise UserErrorException("time_of_day と hours / minutes は一緒に指定できません。")
        try:
            hh, mm = (int(x) for x in str(time_of_day).split(":"))
            hours, minutes = _ints([hh], 0, 23, "time_of_day の時"), _ints([mm], 0, 59,
                                                                         "time_of_day の分")
        except ValueError:
            raise UserErrorException(f"time_of_day {time_of_day!r} は 'HH:MM' の形にして"
                                     "ください (例: '09:30')。") from None
    if (hours or minutes) and frequency not in ("Day", "Week"):
        raise UserErrorException("hours と minutes (time_of_day) は frequency が 'Day' か 'Week' "
                                 "のときだけ指定できます。")
    days = spec.get("week_days") or []
    if isinstance(days, str):
        days = [days]
    bad = [d for d in days if d not in WEEK_DAYS]
    if bad:
        raise UserErrorException(f"week_days {bad} は使えません ({', '.join(WEEK_DAYS)})。")
    if days and frequency != "Week":
        raise UserErrorException("week_days は frequency が 'Week' のときだけ指定できます。")
    start = spec.get("start_time")
    if isinstance(start, datetime):
        start = start.isoformat()
    if start is not None:
        try:
            datetime.fromisoformat(str(start))
        except ValueError:
            raise UserErrorException(f"start_time {start!r} は datetime か "
                                     "'2026-12-01T09:00:00' の形の文字列にしてください。") from None
    zone(spec.get("time_zone"))
    return {"frequency": frequency, "interval": interval, "hours": hours, "minutes": minutes,
            "week_days": list(days), "start_time": start, "time_zone": spec.get("time_zone")}


def _rule(spec: dict[str, Any], created: float) -> Any:
    from dateutil import rrule

    tz = zone(spec.get("time_zone"))
    if spec.get("start_time"):
        start = datetime.fromisoformat(spec["start_time"])
        start = start.replace(tzinfo=tz) if start.tzinfo is None else start.astimezone(tz)
    else:
        start = datetime.fromtimestamp(created, tz).replace(microsecond=0)
    freq = {"Minute": rrule.MINUTELY, "Hour": rrule.HOURLY, "Day": rrule.DAILY,
            "Week": rrule.WEEKLY, "Month": rrule.MONTHLY}[spec["frequency"]]
    options: dict[str, Any] = {"interval": spec["interval"], "dtstart": start}
    if spec.get("hours") or spec.get("minutes"):
        options["byhour"] = spec.get("hours") or [start.hour]
        options["byminute"] = spec.get("minutes") or [0]
        options["bysecond"] = [0]
    if spec.get("week_days"):
        options["byweekday"] = [WEEK_DAYS.index(d) for d in spec["week_days"]]
    return rrule.rrule(freq, **options)


def next_due(spec: dict[str, Any], after: datetime, created: float = 0.0) -> datetime | None:
    """The first occurrence strictly after ``after`` (UTC), or ``None``.

    Example:
        >>> next_due({"frequency": "Minute", "interval": 5,
        ...           "start_time": "2026-12-01T00:00:00"},
        ...          datetime(2026, 12, 1, 0, 7, tzinfo=timezone.utc)).minute
        10
    """
    found = _rule(spec, created).after(after, inc=False)
    return None if found is None else found.astimezone(timezone.utc)


def last_due(spec: dict[str, Any], since: datetime, now: datetime,
             created: float = 0.0) -> datetime | None:
    """The latest occurrence in ``(since, now]`` (UTC), or ``None`` (missed ones fire once).

    Example:
        >>> last_due({"frequency": "Hour", "interval": 1, "start_time": "2026-12-01T00:00:00"},
        ...          datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc),
        ...          datetime(2026, 12, 1, 3, 10, tzinfo=timezone.utc)).hour
        3
    """
    found = _rule(spec, created).before(now, inc=True)
    if found is None or found <= since:
        return None
    return found.astimezone(timezone.utc)
