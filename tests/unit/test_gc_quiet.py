from __future__ import annotations

import gc

import pytest

from adapters.gc_quiet import quiet_gc


def test_the_collector_is_off_inside_and_restored_after_even_on_failure() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), quiet_gc():
        assert not gc.isenabled()
        raise RuntimeError("fold failed")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with quiet_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
