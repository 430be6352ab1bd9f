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


def test_as_a_decorator_it_pauses_every_call_and_the_import_uses_it():
    from tracker.imports import services

    seen = []

    @collector_paused()
    def bulk_work(fail: bool):
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("bad row")

    bulk_work(False)
    with pytest.raises(ValueError):
        bulk_work(True)
    bulk_work(False)
    assert seen == [False, False, False] and gc.isenabled()
    assert services.apply_plan.__wrapped__ and services.read.__wrapped__  # the import's bulk steps are wrapped
