from __future__ import annotations

import pytest

from opensession.localdb.startup import refresh_discovery_on_start


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "off", "Off", "no", " No "])
def test_refresh_on_start_is_turned_off_by_0_false_off_no(value: str) -> None:
    assert refresh_discovery_on_start({"OPS_TUI_REFRESH_DISCOVERY_ON_START": value}) is False


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "", "anything"])
def test_refresh_on_start_stays_on_for_anything_else(value: str) -> None:
    assert refresh_discovery_on_start({"OPS_TUI_REFRESH_DISCOVERY_ON_START": value}) is True


def test_refresh_on_start_is_on_when_unset() -> None:
    assert refresh_discovery_on_start({}) is True
