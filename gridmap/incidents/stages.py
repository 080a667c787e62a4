"""The incident lifecycle: stages, actions and the one table of allowed transitions.

The closed loop of digital urban management (数字化城市管理) in six stages::

    reported ──register──▶ registered ──dispatch──▶ dispatched ──handle──▶ handled
       │                      │    ▲                   │    ▲                 │  │
     reject                 defer  resume            defer  │            verify  send_back
       ▼                      ▼    │                   ▼    │                 ▼  │
    rejected               deferred ◀──────────────────┘    └─────────────────┼──┘
                                                                      verified
                                                                          │ close
                                                                          ▼
                                                                       closed

- **reported** (信息收集): a grid worker, a device or a citizen (Open311) reported it.
- **registered** (立案): the command centre accepted it as a case; **rejected** (不予立案)
  ends a report that is no case (a duplicate, outside the city's remit).
- **dispatched** (派遣): sent to the department that handles its class in its area.
- **handled** (处置): the department says it is done.
- **verified** (核查): someone on site (the grid worker) confirmed it; a failed check
  **sends it back** to the handler (dispatched again).
- **closed** (结案): the command centre closes the case.
- **deferred** (挂账): a registered or dispatched case that cannot be handled now (waiting for
  a season, a budget, a court) is parked with approval, and **resumed** later to where a
  case continues: dispatched.

Who may take an action is a capability (``incident.*``), given to roles as data in
:data:`gridmap.auth.scope.ROLE_CAPABILITIES`; a stage's label in each language lives in the
message catalogues, not here.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from gridmap.errors import Conflict
from gridmap.i18n import N_, msg


class Stage(str, Enum):
    REPORTED = "reported"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"
    REJECTED = "rejected"
    DEFERRED = "deferred"


#: Stages in which a case is finished: no action leads out of them.
FINAL = frozenset({Stage.CLOSED, Stage.REJECTED})
#: Stages whose time counts against the deadline (a deferred case's clock is stopped).
RUNNING = frozenset({Stage.REPORTED, Stage.REGISTERED, Stage.DISPATCHED, Stage.HANDLED,
                     Stage.VERIFIED})


@dataclass(frozen=True)
class Transition:
    """One allowed move: from ``source`` by ``action`` to ``target``, for ``capability``."""

    source: Stage
    action: str
    target: Stage
    capability: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Stage.REPORTED, "register", Stage.REGISTERED, "incident.register"),
    Transition(Stage.REPORTED, "reject", Stage.REJECTED, "incident.register"),
    Transition(Stage.REGISTERED, "dispatch", Stage.DISPATCHED, "incident.dispatch"),
    Transition(Stage.REGISTERED, "defer", Stage.DEFERRED, "incident.approve"),
    Transition(Stage.DISPATCHED, "handle", Stage.HANDLED, "incident.handle"),
    Transition(Stage.DISPATCHED, "defer", Stage.DEFERRED, "incident.approve"),
    Transition(Stage.DEFERRED, "resume", Stage.DISPATCHED, "incident.approve"),
    Transition(Stage.HANDLED, "verify", Stage.VERIFIED, "incident.verify"),
    Transition(Stage.HANDLED, "send_back", Stage.DISPATCHED, "incident.verify"),
    Transition(Stage.VERIFIED, "close", Stage.CLOSED, "incident.close"),
)
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TRANSITIONS))
#: Reporting creates an incident (no transition: there is no stage before it).
REPORT_CAPABILITY = "incident.report"
CAPABILITIES: frozenset[str] = frozenset({REPORT_CAPABILITY,
                                          *(t.capability for t in TRANSITIONS)})

_BY_KEY = {(t.source, t.action): t for t in TRANSITIONS}


class IllegalTransition(Conflict):
    """An action the incident's current stage does not allow (409)."""

    title = N_("illegal transition")


def allowed_actions(stage: Stage) -> tuple[str, ...]:
    """The actions that lead out of ``stage``, in the table's order."""
    return tuple(t.action for t in TRANSITIONS if t.source == stage)


def transition(stage: Stage, action: str) -> Transition:
    """The transition ``action`` takes from ``stage``.

    Raises
    ------
    IllegalTransition
        Naming the current stage and the actions it allows.
    """
    found = _BY_KEY.get((Stage(stage), action))
    if found is None:
        allowed = allowed_actions(Stage(stage))
        raise IllegalTransition(msg(
            "{action!r} is not allowed in stage {stage}; allowed: {allowed}",
            action=action, stage=Stage(stage).value,
            allowed=", ".join(allowed) if allowed else msg("none (the case is finished)")))
    return found
