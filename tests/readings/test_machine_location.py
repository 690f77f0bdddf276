"""Machines say where they are (country) and which drivers are known a day ahead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from tests.readings.test_commands import enms

from enms.core import schema
from enms.core.db import create_db_engine
from enms.readings.schemas import MachineCreate


def test_api_create_and_list_carry_country_and_planned_drivers(client: TestClient) -> None:
    made = client.post(
        "/api/v1/machines",
        json={
            "name": "Press 4",
            "timezone": "Europe/Vienna",
            "country": "at",
            "planned_drivers": ["production_units", "operating_hours", "production_units"],
        },
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["country"] == "AT"  # normalised to upper case
    assert body["planned_drivers"] == ["production_units", "operating_hours"]
    plain = client.post("/api/v1/machines", json={"name": "Press 5"}).json()
    assert (plain["country"], plain["planned_drivers"]) == (None, [])  # no holidays by default
    listed = {m["name"]: m for m in client.get("/api/v1/machines").json()}
    assert listed["Press 4"]["country"] == "AT"
    assert listed["Press 4"]["planned_drivers"] == ["production_units", "operating_hours"]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"country": "UK"}, "'UK' is not an ISO 3166-1 alpha-2 country code (the United Kingdom"),
        ({"country": "Germany"}, "'Germany' is not an ISO 3166-1 alpha-2 country code"),
        ({"planned_drivers": ["energy_kwh"]}, "['energy_kwh'] cannot be planned drivers"),
    ],
)
def test_api_refuses_bad_country_or_drivers(
    client: TestClient, payload: dict[str, object], problem: str
) -> None:
    response = client.post("/api/v1/machines", json={"name": "X", **payload})
    assert response.status_code == 422
    assert problem in response.json()["error"]["message"]


def test_api_update_sets_only_what_it_is_given(client: TestClient) -> None:
    made = client.post(
        "/api/v1/machines", json={"name": "Oven 2", "planned_drivers": ["operating_hours"]}
    ).json()
    url = f"/api/v1/machines/{made['id']}"
    moved = client.patch(url, json={"country": "ch"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["country"], moved.json()["planned_drivers"]) == ("CH", ["operating_hours"])
    planned = client.patch(url, json={"planned_drivers": ["production_units"]}).json()
    assert (planned["country"], planned["planned_drivers"]) == ("CH", ["production_units"])
    cleared = client.patch(url, json={"country": None, "planned_drivers": []}).json()
    assert (cleared["country"], cleared["planned_drivers"]) == (None, [])
    assert client.patch(url, json={"country": "EU"}).status_code == 422
    assert client.patch("/api/v1/machines/9999", json={"country": "DE"}).status_code == 404
    listed = {m["name"]: m for m in client.get("/api/v1/machines").json()}
    assert listed["Oven 2"]["country"] is None


def test_a_country_in_old_style_metadata_becomes_the_column() -> None:
    data = MachineCreate(name="Old script", metadata={"country": "fr", "site": "Lyon"})
    assert data.country == "FR"
    assert data.metadata == {"site": "Lyon"}
    with pytest.raises(ValidationError, match="not an ISO 3166-1 alpha-2"):
        MachineCreate(name="Typo", metadata={"country": "XX"})


def test_cli_add_with_country_and_planned_drivers(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'cli.db'}")  # the file `enms` opens
    schema.upgrade(engine)
    engine.dispose()
    added = enms(
        tmp_path,
        "machines",
        "add",
        "Press 3",
        "--country",
        "DE",
        "--planned-driver",
        "production_units",
        "--planned-driver",
        "operating_hours",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    body = json.loads(added.stdout)
    assert (body["country"], body["planned_drivers"]) == (
        "DE",
        ["production_units", "operating_hours"],
    )
    moved = enms(tmp_path, "machines", "update", "Press 3", "--country", "at", "--json")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["country"] == "AT"
    assert json.loads(moved.stdout)["planned_drivers"] == ["production_units", "operating_hours"]
    listed = enms(tmp_path, "machines", "list")
    assert "AT" in listed.stdout.splitlines()[1]
    bad = enms(tmp_path, "machines", "add", "Press 9", "--country", "UK")
    assert bad.returncode != 0
    assert "--country" in bad.stderr
    assert "the United Kingdom is 'GB'" in bad.stderr
