"""tracker.bulk.collector_paused: the one pause of the cycle collector that bulk work (imports, workbook
snapshots) shares; nested uses are one pause, and it is back on after an error."""
from __future__ import annotations

import gc

import pytest

from tracker.bulk import collector_paused


def test_nested_pauses_switch_the_collector_on_only_when_the_outermost_ends():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause did not switch it back on
    assert gc.isenabled()


def test_the_collector_is_on_again_after_an_error():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the database went away")
    assert gc.isenabled()
