"""The differential in the service's answers, with a stand-in ranker (the real index is tested where it lives)."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from contraxis.service import Engine, ServiceSettings, create_app


class Ranked:
    def __init__(self, top: int) -> None:
        self.top = top

    def to_json(self) -> dict:
        rows = [{"disease_id": "OMIM:277900", "name": "Wilson disease", "genes": ["ATP7B"], "mds_name": None,
                 "post_test_probability": 0.61, "treatable": True, "treatment": {"name": "copper chelation"}},
                {"disease_id": "OMIM:234200", "name": "Neurodegeneration with brain iron accumulation 1",
                 "genes": ["PANK2"], "mds_name": "NBIA/DYT-PANK2", "post_test_probability": 0.12, "treatable": False}]
        return {"candidates": rows[: self.top], "model": "stand-in"}


@pytest.fixture(scope="module")
def ranked_client(kb):
    calls = []

    def rank(case, *, index, top):
        calls.append((index, top))
        return Ranked(top)

    app = create_app(ServiceSettings(preload=False), engine=Engine(kb=kb, index="the-index", rank=rank))
    with TestClient(app) as client:
        client.calls = calls
        yield client


def test_assess_includes_the_differential_when_asked(ranked_client, vignette):
    """Check that POST /assess?differential=true adds the top of the differential, with `top` passed on, and plain
    POST /assess does not."""
    data = ranked_client.post("/assess?differential=true&top=1", json=vignette("P26")).json()
    assert [c["disease_id"] for c in data["differential"]["candidates"]] == ["OMIM:277900"]
    assert data["differential"]["model"] == "stand-in"
    assert ranked_client.calls[-1] == ("the-index", 1)
    assert ranked_client.post("/assess", json=vignette("P26")).json()["differential"] is None


def test_differential_route_and_report_show_the_ranking(ranked_client, vignette):
    """Check that POST /differential answers the ranking with the versions, and the report shows its table."""
    data = ranked_client.post("/differential?top=2", json=vignette("P26")).json()
    assert [c["disease_id"] for c in data["candidates"]] == ["OMIM:277900", "OMIM:234200"]
    assert data["knowledge_base_version"] and data["hpo_release"]
    report = ranked_client.post("/report", json=vignette("P26")).json()["report_html"]
    assert "Differential (HPO)" in report and "Wilson disease" in report and "0.61" in report
    assert "NBIA/DYT-PANK2" in report and "PANK2" in report and "treatable: copper chelation" in report
