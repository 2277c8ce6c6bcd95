from __future__ import annotations

import sys
import threading

import pytest

from adapters.gil_handoff import SWITCH_INTERVAL, prompt_handoff


def test_the_interval_is_short_inside_and_restored_after_even_on_failure() -> None:
    before = sys.getswitchinterval()
    assert before > SWITCH_INTERVAL
    with pytest.raises(RuntimeError), prompt_handoff():
        assert sys.getswitchinterval() == SWITCH_INTERVAL
        raise RuntimeError("fold failed")
    assert sys.getswitchinterval() == before


def test_it_is_restored_only_when_the_last_catch_up_running_ends() -> None:
    before = sys.getswitchinterval()
    inside, release = threading.Event(), threading.Event()

    def other_catch_up() -> None:
        with prompt_handoff():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_catch_up)
    with prompt_handoff():
        thread.start()
        assert inside.wait(5)
    # The other catch-up still runs: the interval stays short until it ends.
    assert sys.getswitchinterval() == SWITCH_INTERVAL
    release.set()
    thread.join(5)
    assert sys.getswitchinterval() == before


def test_a_shorter_interval_already_set_is_kept() -> None:
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL / 2)
    try:
        with prompt_handoff():
            assert sys.getswitchinterval() == SWITCH_INTERVAL / 2
        assert sys.getswitchinterval() == SWITCH_INTERVAL / 2
    finally:
        sys.setswitchinterval(before)
