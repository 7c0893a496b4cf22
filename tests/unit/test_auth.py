"""Bearer tokens: hashed, role-scoped, county-scoped."""

from __future__ import annotations

import json

import pytest

from appraisal.api.auth import Role, TokenRegistry, hash_token

pytestmark = pytest.mark.unit

TOKENS = json.dumps(
    [
        {"name": "番禺司法局", "role": "bureau", "counties": ["440113"], "sha256": hash_token("b")},
        {"name": "律协", "role": "association", "counties": "*", "sha256": hash_token("a")},
        {"name": "审计", "role": "auditor", "counties": [], "sha256": hash_token("u")},
    ]
)


def test_a_known_token_names_its_holder_role_and_counties() -> None:
    registry = TokenRegistry.from_json(TOKENS)
    bureau = registry.lookup("b")
    assert bureau is not None
    assert bureau.role is Role.BUREAU
    assert bureau.may_read_county("440113")
    assert not bureau.may_read_county("440115")
    assert bureau.reads_history
    assert bureau.sees_citizen_comments


def test_associations_read_scores_everywhere_but_never_history_or_comments() -> None:
    association = TokenRegistry.from_json(TOKENS).lookup("a")
    assert association is not None
    assert association.may_read_county("440115")
    assert not association.reads_history
    assert not association.sees_citizen_comments


def test_auditors_read_every_county() -> None:
    auditor = TokenRegistry.from_json(TOKENS).lookup("u")
    assert auditor is not None
    assert auditor.may_read_county("650102")


@pytest.mark.parametrize("token", ["", "B", "b ", "x" * 500])
def test_unknown_tokens_are_refused(token: str) -> None:
    assert TokenRegistry.from_json(TOKENS).lookup(token) is None


def test_tokens_in_clear_are_not_accepted_as_configuration() -> None:
    with pytest.raises(ValueError, match="sha256"):
        TokenRegistry.from_json(
            json.dumps([{"name": "x", "role": "admin", "counties": "*", "sha256": "b"}])
        )


def test_production_mode_refuses_to_start_without_tokens(tmp_path: object) -> None:
    from pathlib import Path

    from appraisal.service import AppraisalService
    from appraisal.settings import AppraisalSettings

    settings = AppraisalSettings(mode="production", data_dir=Path(str(tmp_path)), tokens="[]")
    with pytest.raises(ValueError, match="production mode refuses"):
        AppraisalService(settings)
