"""The embedded stack: everything starts, the demo county is appraised, a restart reuses data."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from embedded.stack import DEMO_COUNTY, StackOptions, banner, load_demo_county, running_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_the_stack_runs_the_demo_county_and_a_restart_reuses_the_data(
    tmp_path: Path,
) -> None:
    options = StackOptions(data_dir=tmp_path / "data", ingest_port=0, appraisal_port=0)
    said: list[str] = []
    async with running_stack(options, say=said.append) as stack:
        assert not stack.reused
        await load_demo_county(stack, villages=30, seed=3)
        text = banner(stack)
        assert stack.credentials.tokens["bureau"] in text
        bureau = {"Authorization": f"Bearer {stack.credentials.tokens['bureau']}"}
        async with httpx.AsyncClient(base_url=stack.appraisal_url, timeout=30) as http:
            county = await http.get(f"/v1/appraisals/{DEMO_COUNTY}/2024", headers=bureau)
            assert county.status_code == 200
            assert county.json()["closed"] is True
            verdicts = {a["verdict"] for a in county.json()["assignments"]}
            assert verdicts & {"RETAIN", "RECTIFY", "REPLACE"}
            assert (await http.get("/dashboard/login")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            first = county.json()
        async with httpx.AsyncClient(base_url=stack.ingest_url) as http:
            assert (await http.get("/readyz")).status_code == 200

    async with running_stack(options, say=said.append) as again:
        assert again.reused
        assert any("Reusing the data directory" in line for line in said)
        bureau = {"Authorization": f"Bearer {again.credentials.tokens['bureau']}"}
        async with httpx.AsyncClient(base_url=again.appraisal_url, timeout=30) as http:
            county = await http.get(f"/v1/appraisals/{DEMO_COUNTY}/2024", headers=bureau)
            assert county.json() == first  # the event store and read models survived
