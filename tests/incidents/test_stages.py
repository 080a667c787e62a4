"""The transition table itself: every stage is reachable from reported and can still end,
final stages have no way out, and any sequence of actions (hypothesis) either follows the
table or is refused naming the stage, never anything else."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from gridmap.auth.scope import ROLE_CAPABILITIES
from gridmap.incidents.stages import (ACTIONS, CAPABILITIES, FINAL, TRANSITIONS,
                                      IllegalTransition, Stage, allowed_actions, transition)


def _reachable(start: Stage) -> set[Stage]:
    seen, todo = {start}, [start]
    while todo:
        stage = todo.pop()
        for t in TRANSITIONS:
            if t.source == stage and t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


def test_every_stage_is_reachable_and_every_open_case_can_end():
    assert _reachable(Stage.REPORTED) == set(Stage)
    for stage in set(Stage) - FINAL:
        assert _reachable(stage) & FINAL, f"{stage} can never end"


def test_final_stages_have_no_way_out():
    for stage in FINAL:
        assert allowed_actions(stage) == ()
        with pytest.raises(IllegalTransition, match="none"):
            transition(stage, "register")


def test_every_capability_is_held_by_a_role_other_than_the_administrator():
    held = set().union(*(caps for role, caps in ROLE_CAPABILITIES.items()
                         if role != "administrator"))
    assert CAPABILITIES <= held
    assert CAPABILITIES <= ROLE_CAPABILITIES["administrator"]


@given(st.lists(st.sampled_from(ACTIONS + ("fly",)), max_size=30))
def test_any_sequence_of_actions_follows_the_table(actions):
    stage = Stage.REPORTED
    for action in actions:
        table = {t.action: t.target for t in TRANSITIONS if t.source == stage}
        if action in table:
            stage = transition(stage, action).target
            assert stage == table[action]
        else:
            with pytest.raises(IllegalTransition) as caught:
                transition(stage, action)
            assert caught.value.status == 409 and stage.value in str(caught.value)
