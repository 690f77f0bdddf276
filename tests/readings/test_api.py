"""HTTP routes for machines and readings, against the real app and database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import readings_csv


def _machine(client: TestClient, name: str = "Chiller 7") -> int:
    response = client.post(
        "/api/v1/machines",
        json={"name": name, "machine_type": "chiller", "timezone": "Europe/Berlin"},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_create_list_and_duplicate_machine(client: TestClient) -> None:
    machine_id = _machine(client)
    listed = client.get("/api/v1/machines").json()
    assert [(m["id"], m["name"], m["readings_count"]) for m in listed] == [
        (machine_id, "Chiller 7", 0)
    ]
    again = client.post("/api/v1/machines", json={"name": "Chiller 7"})
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "already_exists",
        "message": "a machine named 'Chiller 7' already exists",
        "details": {},
    }


def test_invalid_machine_input_uses_the_common_error_shape(client: TestClient) -> None:
    response = client.post("/api/v1/machines", json={"name": "X", "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "unknown time zone 'Mars/Olympus'" in error["message"]


def test_csv_body_json_batch_and_multipart_upload(client: TestClient) -> None:
    machine_id = _machine(client)
    url = f"/api/v1/machines/{machine_id}/readings"
    as_csv = client.post(
        url, content=readings_csv(periods=24), headers={"content-type": "text/csv"}
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.json()["inserted"] == 24
    as_json = client.post(
        url,
        json={
            "readings": [
                {"timestamp": "2025-01-02T00:00:00Z", "energy_kwh": 12.5, "outdoor_temp_c": 3.0},
            ]
        },
    )
    assert as_json.json()["inserted"] == 1
    upload = client.post(
        url, files={"file": ("r.csv", readings_csv(start="2025-01-03", periods=5))}
    )
    assert upload.json()["inserted"] == 5
    page = client.get(url, params={"from": "2025-01-02", "to": "2025-01-03"}).json()
    assert page["count"] == 1
    assert page["readings"][0]["energy_kwh"] == 12.5


def test_bad_csv_is_rejected_and_nothing_written(client: TestClient) -> None:
    machine_id = _machine(client)
    url = f"/api/v1/machines/{machine_id}/readings"
    bad = readings_csv(periods=10) + "2025-02-01T00:00:00,oops,1,1,false,1\n"
    response = client.post(url, content=bad, headers={"content-type": "text/csv"})
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid_file"
    assert body["details"]["problems"][0] == {
        "location": "line 12",
        "column": "energy_kwh",
        "value": "oops",
        "problem": "is not a number",
    }
    assert client.get(url).json()["count"] == 0


def test_a_file_that_is_not_utf8_text_is_refused_naming_the_byte(client: TestClient) -> None:
    url = f"/api/v1/machines/{_machine(client)}/readings"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    upload = client.post(url, files={"file": ("meter.png", png)})
    as_body = client.post(
        url, content=b"timestamp,energy_kwh\n\xff", headers={"content-type": "text/csv"}
    )
    for response, offset, byte in ((upload, 0, "0x89"), (as_body, 21, "0xff")):
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_file"
        assert error["message"].startswith(
            f"the file is not UTF-8 text: byte {byte} at offset {offset}"
        )
        assert error["details"] == {"offset": offset}
    assert client.get(url).json()["count"] == 0


def test_errors_for_unknown_machine_bad_window_and_content_type(client: TestClient) -> None:
    assert client.get("/api/v1/machines/999/readings").json()["error"]["code"] == "not_found"
    machine_id = _machine(client)
    url = f"/api/v1/machines/{machine_id}/readings"
    inverted = client.get(url, params={"from": "2025-02-01", "to": "2025-01-01"})
    assert inverted.status_code == 422
    assert "must be before" in inverted.json()["error"]["message"]
    garbled = client.get(url, params={"from": "soon"})
    assert "'soon' is not an ISO 8601" in garbled.json()["error"]["message"]
    xml = client.post(url, content="<r/>", headers={"content-type": "application/xml"})
    assert xml.status_code == 422
    assert "unsupported content type" in xml.json()["error"]["message"]


def test_health_reports_schema(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["schema_revision"] == body["schema_head"]


def test_limit_applies_to_aggregates_too(client: TestClient) -> None:
    machine_id = _machine(client)
    url = f"/api/v1/machines/{machine_id}/readings"
    client.post(url, content=readings_csv(periods=72), headers={"content-type": "text/csv"})
    page = client.get(url, params={"resolution": "hourly", "limit": 5}).json()
    assert (page["count"], page["truncated"]) == (5, True)
    whole = client.get(url, params={"resolution": "daily", "limit": 10}).json()
    assert whole["truncated"] is False


def test_api_docs_are_served_without_internet(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/static/docs/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text
    js = client.get("/static/docs/swagger-ui-bundle.js")
    assert js.status_code == 200
    assert len(js.content) > 500_000
