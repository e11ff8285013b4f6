from __future__ import annotations

import pytest
from tests.fakes import FakeLab


@pytest.fixture
def fake_lab(tmp_path) -> FakeLab:
    return FakeLab(tmp_path)
