"""Slack and Teams incoming-webhook shapes (keys as their documentation gives them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from enms.alerts.notify.payloads import (
    SLACK_SECTION_CHARS,
    AlertItem,
    Notice,
    generic,
    slack,
    teams,
    webhook_payload,
)
from enms.alerts.notify.webhook import encode

AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _item(alert_id: int, severity: str = "warning", message: str = "energy +12 %") -> AlertItem:
    return AlertItem(
        id=alert_id,
        machine_id=1,
        machine_name="Compressor 1",
        group="compressors",
        model_type="baseline",
        alert_type="drift",
        severity=severity,
        message=message,
        state="open",
        first_seen=AT,
        last_seen=AT,
        occurrences=1,
        escalated=False,
    )


NOTICE = Notice("compressors", "critical", (_item(7, "critical"), _item(8)))


def test_slack_message_is_text_plus_mrkdwn_section_blocks() -> None:
    message = slack(NOTICE)
    assert set(message) == {"text", "blocks"}
    assert message["text"] == "[enms] CRITICAL: 2 alerts on group compressors"
    assert len(message["blocks"]) == 3  # a headline and one section per alert
    for block in message["blocks"]:
        assert block["type"] == "section"
        assert block["text"]["type"] == "mrkdwn"
        assert isinstance(block["text"]["text"], str)
    assert "/api/v1/alerts/7" in message["blocks"][1]["text"]["text"]
    assert "energy +12 %" in message["blocks"][2]["text"]["text"]


def test_slack_limits_are_kept_for_long_messages_and_many_alerts() -> None:
    many = Notice("g", "warning", tuple(_item(i, message="x" * 5000) for i in range(80)))
    message = slack(many)
    assert len(message["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= SLACK_SECTION_CHARS for b in message["blocks"])
    assert "35 more" in message["blocks"][-1]["text"]["text"]


def test_teams_message_carries_an_adaptive_card_1_4() -> None:
    message = teams(NOTICE)
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    kinds = [element["type"] for element in card["body"]]
    assert kinds[0] == "TextBlock"
    assert set(kinds) == {"TextBlock", "FactSet"}
    assert kinds.count("FactSet") == 2
    facts = next(e for e in card["body"] if e["type"] == "FactSet")["facts"]
    assert {"title": "Machine", "value": "Compressor 1"} in facts
    assert all(set(fact) == {"title", "value"} for fact in facts)
    assert "actions" not in card  # Action.Submit is not supported by incoming webhooks


def test_generic_payload_lists_the_alerts_in_full_and_every_shape_is_json() -> None:
    body = generic(NOTICE)
    assert (body["group"], body["severity"], body["count"]) == ("compressors", "critical", 2)
    assert body["alerts"][0]["first_seen"] == AT.isoformat()
    assert body["alerts"][0]["link"] == "/api/v1/alerts/7"
    for fmt in ("slack", "teams", "generic"):
        payload = webhook_payload(NOTICE, fmt)
        assert json.loads(encode(payload)) == payload
