"""Server-rendered pages."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient


def test_index_lists_machines_and_serves_plotly_locally(client: TestClient) -> None:
    empty = client.get("/")
    assert empty.status_code == 200
    assert "No machines yet" in empty.text
    client.post("/api/v1/machines", json={"name": "Boiler 2", "machine_type": "boiler"})
    page = client.get("/")
    assert "Boiler 2" in page.text
    assert "boiler" in page.text
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200
    assert len(js.content) > 1_000_000


def test_plotly_goes_out_gzipped_to_clients_that_take_it(client: TestClient) -> None:
    from enms.web.pages import _plotly_js

    original = _plotly_js().read_bytes()
    with client.stream(
        "GET", "/static/plotly.min.js", headers={"accept-encoding": "gzip, deflate"}
    ) as response:
        raw = b"".join(response.iter_raw())
        headers = response.headers
    assert (headers["content-encoding"], headers["vary"]) == ("gzip", "Accept-Encoding")
    assert len(raw) < 0.4 * len(original)
    assert gzip.decompress(raw) == original
    half = client.get("/static/plotly.min.js", headers={"accept-encoding": "br, gzip; q=0.5"})
    assert half.headers["content-encoding"] == "gzip"
    for refusal in ("identity", "gzip;q=0, br", "gzip; q=0.000", "deflate"):
        plain = client.get("/static/plotly.min.js", headers={"accept-encoding": refusal})
        assert "content-encoding" not in plain.headers, refusal
        assert plain.content == original
