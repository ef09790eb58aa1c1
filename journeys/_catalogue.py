"""The service catalogue: a TOML file in which analysts describe their services.

It names each service in English and Arabic, its agency and SLA target, its designed (to-be)
journey, the roles of its activities and the documents they supply; it also names agencies,
channels, activities in Arabic and the life-event bundles. It is what turns a raw process log into
a customer journey.

A minimal catalogue::

    version = 1

    [services.trade_licence]
    name_en = "Trade licence"
    name_ar = "الرخصة التجارية"
    agency = "Economic Development Department"
    sla_hours = 240
    open_days = 30        # optional: an undecided case idle this long counts as abandoned
    designed_journey = ["Submit application", "Pay fees", "Issue document"]
    draft = false         # optional: true while the entry is a draft (najma drafted it, no one corrected it)

    [services.trade_licence.activities]
    "Submit application" = ["customer_step", "application"]
    "Upload documents" = ["customer_step", "document_submission"]
    "Resubmit documents" = ["customer_step", "document_submission", "rework"]
    "Pay fees" = ["customer_step", "payment"]
    "Issue document" = ["system_step"]

    [services.trade_licence.documents]    # optional: the documents each submission supplies
    "Upload documents" = ["passport copy", "tenancy contract"]
    "Resubmit documents" = ["tenancy contract"]

    [calendar]            # optional: working hours, for journeys' working time
    time_zone = "Asia/Dubai"
    work_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    hours = ["07:30", "15:30"]
    holidays = ["2025-03-30"]

    [life_events.newborn]
    name_en = "A newborn"
    name_ar = "مولود جديد"
    services = ["birth_certificate", "national_id"]
    window_days = 180

Life events
-----------
A ``[life_events.KEY]`` table names at least two services the catalogue describes, with English
and Arabic names and ``window_days`` (a whole number of days, at least 1; 365 when left out), the
window within which one customer's cases of those services are linked into one journey (see
:mod:`najma.journeys._life_events`). :func:`add_life_event` appends one to a catalogue file.

Documents
---------
A step whose activity has the role ``document_submission`` supplies documents: those its
service's ``documents`` table lists for its activity, or, for an activity the table does not list
(and in a service without the table), one document named after the activity. Each listed activity
must be among the service's activities and hold the role ``document_submission``; each document is
a non-empty name, and a name means the same document in every service (so that the life events'
"ask once" finds a document asked by a second agency). A case's *documents asked again* are its
supplies of a document it had already supplied (see :mod:`najma.journeys._pipeline`).

Designed journeys
-----------------
``designed_journey`` is the to-be journey conformance and the steps KPIs measure against. A list
of activity names is a strict sequence. A string is a process tree, with choices, optional steps
and steps in any order; a table ``{ bpmn = "file.bpmn" }`` draws it from a BPMN file beside the
catalogue (see :mod:`najma.journeys._designed` for both)::

    designed_journey = "->(Submit application, +(Upload documents, Pay fees), X(Deliver, Collect), ?Notify)"

Every activity it names must be among the service's activities.

Draft entries
-------------
``draft = true`` marks a service whose entry is still a draft, as :func:`draft_catalogue` writes
it; its ratings are provisional until the analyst corrects the entry and removes the key.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from najma.errors import CatalogueError
from najma.journeys._designed import Tree, parse_tree, read_bpmn
from najma.journeys._working_time import WorkCalendar, calendar_problems

__all__ = ["DEFAULT_OPEN_DAYS", "DEFAULT_WINDOW_DAYS", "ROLES", "ServiceSpec", "LifeEvent", "Catalogue", "load_catalogue",
           "parse_catalogue", "add_life_event", "adding_life_event", "draft_catalogue"]

#: The roles an activity can have in a customer journey.
ROLES: dict[str, str] = {
    "customer_step": "a step the customer takes",
    "staff_step": "a step staff take",
    "system_step": "a step a system takes",
    "application": "the customer applies (absent when the government starts the case)",
    "proactive_start": "the government starts the case itself",
    "visit": "the customer comes to a service centre",
    "document_request": "the customer is asked for a document",
    "document_submission": "the customer hands in documents",
    "payment": "the customer pays",
    "delivery": "the outcome reaches the customer",
    "rework": "work done again",
    "approval": "the request is approved",
    "rejection": "the request is rejected",
    "notification": "the customer is told of progress",
}

_SERVICE_KEYS = {"name_en", "name_ar", "agency", "sla_hours", "open_days", "designed_journey", "activities", "documents",
                 "draft"}
#: Days without an event after which an undecided case counts as abandoned rather than open.
DEFAULT_OPEN_DAYS = 30


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the catalogue."""

    key: str
    name_en: str
    name_ar: str
    agency: str
    sla_hours: float
    designed_journey: tuple[str, ...]
    activities: Mapping[str, tuple[str, ...]]
    open_days: float = DEFAULT_OPEN_DAYS
    #: activity -> the documents a step of it supplies (see the module docstring's "Documents").
    documents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    draft: bool = False
    #: The designed journey with its choices, optional and unordered steps (see "Designed journeys" in the module
    #: docstring); None when it is a strict sequence (a list), whose activities ``designed_journey`` holds.
    designed_model: Tree | None = None

    def activities_with(self, role: str) -> list[str]:
        """The activities that have `role`."""
        return [a for a, roles in self.activities.items() if role in roles]


@dataclass(frozen=True)
class LifeEvent:
    """A bundle of services one customer passes through for one event of life."""

    key: str
    name_en: str
    name_ar: str
    services: tuple[str, ...]
    window_days: int


@dataclass(frozen=True)
class Catalogue:
    """A validated service catalogue (see the module docstring for the file format)."""

    services: Mapping[str, ServiceSpec]
    life_events: Mapping[str, LifeEvent] = field(default_factory=dict)
    agencies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    activity_names_ar: Mapping[str, str] = field(default_factory=dict)
    calendar: WorkCalendar | None = None
    source: str = "<catalogue>"

    def check_against(self, activities_by_service: Mapping[str, Iterable[str]]) -> None:
        """Check the catalogue against a loaded log: every activity it names must occur there.

        Parameters
        ----------
        activities_by_service : mapping of str to iterable of str
            The activities the log holds, per service.

        Raises
        ------
        CatalogueError
            Listing each service missing from the log and each activity not in it.
        """
        problems = []
        for key, spec in self.services.items():
            if key not in activities_by_service:
                problems.append(f"service {key!r} is not in the log")
                continue
            present = set(activities_by_service[key])
            named = list(spec.activities) + [a for a in spec.designed_journey if a not in spec.activities]
            problems.extend(
                f"service {key!r}: activity {a!r} is not in the log" for a in named if a not in present
            )
        if problems:
            raise CatalogueError(f"{self.source}: " + "; ".join(problems))


def _text(value: object, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where} must be a non-empty string, got {value!r}")
        return ""
    return value


def _service(key: str, raw: object, folder: Path, problems: list[str]) -> ServiceSpec | None:
    where = f"[services.{key}]"
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a table")
        return None
    unknown = sorted(set(raw) - _SERVICE_KEYS)
    if unknown:
        problems.append(f"{where} has unknown keys {', '.join(unknown)}; expected {', '.join(sorted(_SERVICE_KEYS))}")
    sla = raw.get("sla_hours")
    if not isinstance(sla, (int, float)) or isinstance(sla, bool) or sla <= 0:
        problems.append(f"{where} sla_hours must be a positive number of hours, got {sla!r}")
    open_days = raw.get("open_days", DEFAULT_OPEN_DAYS)
    if not isinstance(open_days, (int, float)) or isinstance(open_days, bool) or open_days <= 0:
        problems.append(f"{where} open_days must be a positive number of days, got {open_days!r}")
        open_days = DEFAULT_OPEN_DAYS
    activities: dict[str, tuple[str, ...]] = {}
    for activity, roles in (raw.get("activities") or {}).items():
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list):
            problems.append(f"{where} activity {activity!r}: roles must be a list of strings")
            continue
        for role in roles:
            if role not in ROLES:
                problems.append(f"{where} activity {activity!r}: unknown role {role!r}; roles are {', '.join(ROLES)}")
        activities[activity] = tuple(roles)
    model, journey = _designed_model(raw.get("designed_journey", []), f"{where} designed_journey", folder, problems)
    for activity in journey:
        if activities and activity not in activities:
            problems.append(f"{where} designed_journey names {activity!r}, which is not among its activities")
    draft = raw.get("draft", False)
    if not isinstance(draft, bool):
        problems.append(f"{where} draft must be true or false, got {draft!r}")
    return ServiceSpec(
        key=key,
        name_en=_text(raw.get("name_en"), f"{where} name_en", problems),
        name_ar=_text(raw.get("name_ar"), f"{where} name_ar", problems),
        agency=_text(raw.get("agency"), f"{where} agency", problems),
        sla_hours=float(sla) if isinstance(sla, (int, float)) else 0.0,
        designed_journey=tuple(journey),
        activities=activities,
        designed_model=model,
        open_days=float(open_days),
        documents=_documents(raw.get("documents", {}), activities, f"[services.{key}.documents]", problems),
        draft=draft is True,
    )


def _folder(source: str) -> Path:
    """Where the files a catalogue names are: beside the catalogue file, or the working folder for text."""
    return Path(source).parent if not source.startswith("<") else Path.cwd()


def _designed_model(raw: object, where: str, folder: Path, problems: list[str]) -> tuple[Tree | None, tuple[str, ...]]:
    """The process tree of a ``designed_journey`` written as notation or as a BPMN file (None for a list of names),
    and its activities, left to right."""
    try:
        if isinstance(raw, str):
            model = parse_tree(raw, where)
            return model, model.leaves()
        if isinstance(raw, dict) and set(raw) == {"bpmn"} and isinstance(raw["bpmn"], str):
            model = read_bpmn(folder / raw["bpmn"])
            return model, model.leaves()
    except CatalogueError as exc:
        problems.append(str(exc) if str(exc).startswith(where) else f"{where}: {exc}")
        return None, ()
    if isinstance(raw, list) and all(isinstance(a, str) for a in raw):
        return None, tuple(raw)
    problems.append(f"{where} must be a list of activity names, a process tree such as \"->(Apply, X(Deliver, "
                    f"Collect), ?Notify)\" or a table {{ bpmn = \"file.bpmn\" }}, got {raw!r}")
    return None, ()


def _documents(raw: object, activities: Mapping[str, tuple[str, ...]], where: str,
               problems: list[str]) -> dict[str, tuple[str, ...]]:
    """A service's ``documents`` table: activity -> the documents it supplies; each problem is added to `problems`."""
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a table of activity = [document names]")
        return {}
    documents = {}
    for activity, names in raw.items():
        if activity not in activities:
            problems.append(f"{where} names {activity!r}, which is not among the service's activities")
        elif "document_submission" not in activities[activity]:
            problems.append(f"{where} names {activity!r}, which lacks the role document_submission")
        if not isinstance(names, list) or not names:
            problems.append(f"{where} {activity!r} must be a non-empty list of document names, got {names!r}")
            continue
        bad = [name for name in names if not isinstance(name, str) or not name.strip()]
        if bad:
            problems.append(f"{where} {activity!r}: document names must be non-empty strings, got {', '.join(map(repr, bad))}")
        documents[activity] = tuple(dict.fromkeys(name for name in names if name not in bad))
    return documents


#: The window of a life event whose table gives none.
DEFAULT_WINDOW_DAYS = 365


def _life_event(key: str, raw: object, services: Mapping[str, ServiceSpec], problems: list[str]) -> LifeEvent | None:
    """A ``[life_events.KEY]`` table: two services or more that the catalogue describes, a window of a day or more."""
    where = f"[life_events.{key}]"
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a table")
        return None
    members = raw.get("services", [])
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        problems.append(f"{where} services must be a list of service keys, got {members!r}")
        members = []
    for member in dict.fromkeys(members):
        if member not in services:
            problems.append(f"{where} names the service {member!r}, which the catalogue does not describe")
        if members.count(member) > 1:
            problems.append(f"{where} names the service {member!r} more than once")
    if len(set(members)) < 2:
        problems.append(f"{where} must name at least two services, got {len(set(members))}")
    window = raw.get("window_days", DEFAULT_WINDOW_DAYS)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        problems.append(f"{where} window_days must be a whole number of days, at least 1, got {window!r}")
        window = DEFAULT_WINDOW_DAYS
    return LifeEvent(key, _text(raw.get("name_en"), f"{where} name_en", problems),
                     _text(raw.get("name_ar"), f"{where} name_ar", problems), tuple(members), window)


_CALENDAR_KEYS = {"time_zone", "work_days", "hours", "holidays"}


def _calendar(raw: object, problems: list[str]) -> WorkCalendar | None:
    if not isinstance(raw, dict):
        problems.append("[calendar] must be a table")
        return None
    unknown = sorted(set(raw) - _CALENDAR_KEYS)
    if unknown:
        problems.append(f"[calendar] has unknown keys {', '.join(unknown)}; expected {', '.join(sorted(_CALENDAR_KEYS))}")
    default = WorkCalendar()
    hours = raw.get("hours", [default.opens, default.closes])
    if not (isinstance(hours, list) and len(hours) == 2 and all(isinstance(h, str) for h in hours)):
        problems.append(f"[calendar] hours must be two times such as [\"07:30\", \"15:30\"], got {hours!r}")
        return None
    fields = {"time_zone": raw.get("time_zone", default.time_zone), "work_days": raw.get("work_days", list(default.work_days)),
              "opens": hours[0], "closes": hours[1], "holidays": raw.get("holidays", list(default.holidays))}
    found = [f"[calendar] {problem}" for problem in calendar_problems(**fields)]
    problems.extend(found)
    return None if found else WorkCalendar(**fields)


def parse_catalogue(text: str, source: str = "<catalogue>") -> Catalogue:
    """Parse and validate catalogue TOML `text`; `source` names it in messages.

    Raises
    ------
    CatalogueError
        With every problem found, each naming where it is.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if "Cannot overwrite a value" in message or "Cannot declare" in message:
            message = f"a service, activity or key is declared twice ({message})"
        raise CatalogueError(f"{source}: {message}") from None
    problems: list[str] = []
    if raw.get("version", 1) != 1:
        problems.append(f"version must be 1, got {raw.get('version')!r}")
    services = {}
    for key, value in (raw.get("services") or {}).items():
        spec = _service(key, value, _folder(source), problems)
        if spec is not None:
            services[key] = spec
    if not services:
        problems.append("no [services.NAME] tables: describe at least one service")
    life_events = {}
    for key, value in (raw.get("life_events") or {}).items():
        life_event = _life_event(key, value, services, problems)
        if life_event is not None:
            life_events[key] = life_event
    calendar = _calendar(raw.get("calendar"), problems) if "calendar" in raw else None
    if problems:
        raise CatalogueError(f"{source}: " + "; ".join(problems))
    return Catalogue(
        services=services,
        life_events=life_events,
        agencies=raw.get("agencies", {}),
        channels=raw.get("channels", {}),
        activity_names_ar={k: v.get("name_ar", "") for k, v in (raw.get("activities") or {}).items()},
        calendar=calendar,
        source=source,
    )


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and validate the catalogue at `path` (see :func:`parse_catalogue`)."""
    path = Path(path)
    return parse_catalogue(_read(path), str(path))


def _read(path: Path) -> str:
    """The text of the catalogue file at `path`, as it is (its line ends kept)."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot be read ({exc})") from None


#: A life event's key: what TOML takes unquoted in ``[life_events.KEY]``.
_LIFE_EVENT_KEY = re.compile(r"[A-Za-z0-9_-]+")


def add_life_event(path: str | Path, life_event: LifeEvent) -> Catalogue:
    """Add `life_event` to the catalogue file at `path` as a ``[life_events.KEY]`` table, keeping all else.

    The table is appended to the file's text, so its comments, order and layout stay as they were.
    The file changes only if the catalogue it would hold is valid (:func:`parse_catalogue`), and
    then at once: the new text is written beside it and moved over it.

    Parameters
    ----------
    path : str or Path
        A valid catalogue TOML file.
    life_event : LifeEvent
        The life event to add: a new key (letters, digits, ``_`` and ``-``), English and Arabic
        names, at least two services the catalogue describes, a window of at least one day.

    Returns
    -------
    Catalogue
        The catalogue the file now holds.

    Raises
    ------
    CatalogueError
        If the file cannot be read or written, is not a valid catalogue, already has the key, or
        the life event breaks a rule of the catalogue (each problem named); the file is then untouched.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from najma.sample import SAMPLE_CATALOGUE
    >>> copy = shutil.copy(SAMPLE_CATALOGUE, tempfile.mkdtemp())
    >>> added = add_life_event(copy, LifeEvent("parents", "New parents", "والدان جديدان",
    ...                                        ("birth_certificate", "passport"), 60))
    >>> added.life_events["parents"].services
    ('birth_certificate', 'passport')
    """
    with adding_life_event(path, life_event) as added:
        return added


@contextmanager
def adding_life_event(path: str | Path, life_event: LifeEvent) -> Iterator[Catalogue]:
    """Check that `life_event` can be added to the catalogue file at `path`, and add it when the block ends well.

    Yields the catalogue the file will hold (raising as :func:`add_life_event` does, before the
    block runs); the file is written when the block ends without an error, and left untouched
    otherwise. So a caller can make the file's change one with its own (a store's transaction).
    """
    path = Path(path)
    text = _read(path)
    present = parse_catalogue(text, str(path))
    key = life_event.key
    if not isinstance(key, str) or not _LIFE_EVENT_KEY.fullmatch(key):
        raise CatalogueError(f"{path}: a life event's key must be letters, digits, '_' or '-', got {key!r}",
                             parameter="life_event")
    if key in present.life_events:
        raise CatalogueError(f"{path}: [life_events.{key}] exists already; choose another key", parameter="life_event")
    table = {"name_en": life_event.name_en, "name_ar": life_event.name_ar, "services": list(life_event.services),
             "window_days": life_event.window_days}
    newline = "\r\n" if "\r\n" in text else "\n"
    appended = tomli_w.dumps({"life_events": {key: table}}).replace("\n", newline)
    written = text + (newline if text and not text.endswith("\n") else "") + newline + appended
    yield parse_catalogue(written, str(path))
    _replace(path, written.encode("utf-8"))


def _replace(path: Path, data: bytes) -> None:
    """Write `data` to `path` at once: into a file beside it, then moved over it (its permissions kept)."""
    target = path.resolve()
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        shutil.copymode(target, temporary)
        os.replace(temporary, target)
    except BaseException as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise CatalogueError(f"{path}: cannot be written ({exc})") from None
        raise


def draft_catalogue(profile: Mapping[str, Mapping[str, Mapping[str, object]]]) -> str:
    """Draft catalogue TOML from a log's profile, for the analyst to correct.

    Parameters
    ----------
    profile : mapping
        service -> activity -> facts: ``actor`` (the most frequent actor, or None),
        ``agency`` (the most frequent agency, or None), ``share`` (share of the service's cases
        with the activity), ``first`` (share of cases it starts), ``repeats`` (share of cases
        where it occurs more than once), ``position`` (its median position in a case).

    Returns
    -------
    str
        TOML text: roles guessed from the actor and from repetition, the designed journey
        drafted as the activities that most cases go through, in their usual order,
        placeholders (``TODO``) where only the analyst can know the answer, and ``draft = true``
        in every service, which the header asks the analyst to remove once the entry is corrected.
    """
    services = {}
    for key, activities in sorted(profile.items()):
        agencies = [facts.get("agency") for facts in activities.values() if facts.get("agency")]
        roles = {}
        for activity, facts in sorted(activities.items()):
            actor = facts.get("actor")
            guessed = [f"{actor}_step"] if actor in ("customer", "staff", "system") else []
            if facts.get("first", 0) >= 0.5 and actor == "customer":
                guessed.append("application")
            if facts.get("repeats", 0) >= 0.05:
                guessed.append("rework")
            roles[activity] = guessed
        journey = sorted((a for a, f in activities.items() if f.get("share", 0) >= 0.5), key=lambda a: activities[a]["position"])
        services[key] = {
            "name_en": key.replace("_", " ").capitalize(),
            "name_ar": "TODO",
            "agency": max(set(agencies), key=agencies.count) if agencies else "TODO",
            "sla_hours": 120,
            "designed_journey": journey,
            "draft": True,
            "activities": roles,
        }
    header = (
        "# Drafted by `najma catalogue draft` from the loaded log. Correct it before use:\n"
        "# Arabic names, SLA targets (hours), the designed journey, the roles of each activity and\n"
        "# the documents each document_submission supplies ([services.NAME.documents]).\n"
        "# Each service says `draft = true`: its ratings are provisional. Remove that line once you\n"
        "# have corrected the service's entry.\n"
        f"# Roles: {', '.join(ROLES)}.\n"
    )
    return header + tomli_w.dumps({"version": 1, "services": services})
