"""CSV and JSON validation rules (no database)."""

from __future__ import annotations

import pytest

from enms.core.errors import InvalidFile
from enms.readings.parsing import parse_csv, parse_records


def test_valid_file_with_drivers_labels_and_offsets() -> None:
    parsed = parse_csv(
        "timestamp,energy_kwh,outdoor_temp_c,line_speed,is_anomaly\n"
        "2025-01-01T00:00:00,1.5,3,4,0\n"
        "2025-01-01T02:00:00+01:00,2,,5,true\n"
        "2025-01-01T02:00:00Z,3,1,1,\n"
    )
    assert parsed.rows_read == 3
    assert [t.isoformat() for t in parsed.frame.index] == [
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T01:00:00+00:00",
        "2025-01-01T02:00:00+00:00",
    ]
    assert parsed.known_drivers == ["outdoor_temp_c"]
    assert parsed.extra_drivers == ["line_speed"]
    assert parsed.frame["is_anomaly"].tolist()[:2] == [False, True]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "timestamp,energy_kwh\n2025-01-01,1\nyesterday,2\n",
            "line 3, column timestamp: 'yesterday' is not an ISO 8601 timestamp",
        ),
        (
            "timestamp,energy_kwh\n2025-01-01,1\n2025-01-02,abc\n",
            "line 3, column energy_kwh: 'abc' is not a number",
        ),
        ("timestamp,energy_kwh\n2025-01-01,-4\n", "line 2, column energy_kwh: '-4' is negative"),
        (
            "timestamp,energy_kwh,notes\n2025-01-01,1,ok\n",
            "line 2, column notes: 'ok' is not a number",
        ),
        (
            "timestamp,energy_kwh,outdoor_temp_c\n2025-01-01,1,warm\n",
            "line 2, column outdoor_temp_c: 'warm' is not a number",
        ),
        ("timestamp,energy_kwh\n2025-01-01,\n", "line 2, column energy_kwh: is empty"),
        (
            "timestamp,energy_kwh,is_anomaly\n2025-01-01,1,maybe\n",
            "line 2, column is_anomaly: 'maybe' is not a boolean",
        ),
        ("time,energy_kwh\n2025-01-01,1\n", "missing required column(s) timestamp"),
        ("", "the file is empty"),
        ("timestamp,energy_kwh\n", "no readings"),
        ("timestamp,energy_kwh\n2025-01-01,inf\n", "'inf' is not a finite number"),
    ],
)
def test_bad_files_are_rejected_naming_line_column_and_problem(text: str, expected: str) -> None:
    with pytest.raises(InvalidFile) as caught:
        parse_csv(text)
    assert expected in caught.value.message


def test_every_problem_is_listed_not_only_the_first() -> None:
    with pytest.raises(InvalidFile) as caught:
        parse_csv("timestamp,energy_kwh\nx,1\n2025-01-01,y\n2025-01-02,-1\n")
    problems = caught.value.details["problems"]
    assert [(p["location"], p["column"]) for p in problems] == [
        ("line 2", "timestamp"),
        ("line 3", "energy_kwh"),
        ("line 4", "energy_kwh"),
    ]
    assert "and 2 more problem(s)" in caught.value.message


def test_duplicates_and_gaps_are_reported_not_rejected() -> None:
    parsed = parse_csv(
        "timestamp,energy_kwh\n"
        + "".join(f"2025-01-01T{h:02d}:00,{h}\n" for h in range(6))
        + "2025-01-01T03:00,99\n"  # duplicate: the later row wins
        + "".join(f"2025-01-01T{h:02d}:00,{h}\n" for h in range(10, 14))
    )
    assert parsed.duplicates == 1
    assert "line 5" in parsed.duplicate_examples[0]
    assert parsed.frame.loc["2025-01-01T03:00:00+00:00", "energy_kwh"] == 99
    assert parsed.gaps == 1
    assert parsed.gap_examples[0]["missing_intervals"] == 4
    assert parsed.interval_seconds == 3600


def test_json_records_use_item_positions() -> None:
    with pytest.raises(InvalidFile, match=r"readings\[1\], column energy_kwh"):
        parse_records(
            [
                {"timestamp": "2025-01-01T00:00:00Z", "energy_kwh": 1.0},
                {"timestamp": "2025-01-01T01:00:00Z", "energy_kwh": "lots"},
            ]
        )
    parsed = parse_records(
        [{"timestamp": "2025-01-01T00:00:00Z", "energy_kwh": 1.0, "outdoor_temp_c": None}]
    )
    assert parsed.rows_read == 1


def test_known_columns_match_whatever_their_case_and_semicolons_get_a_hint() -> None:
    parsed = parse_csv("Timestamp,Energy_kWh,Outdoor_Temp_C,Line_Speed\n2025-01-01,1,2,3\n")
    assert list(parsed.frame.columns) == ["energy_kwh", "outdoor_temp_c", "Line_Speed"]
    with pytest.raises(InvalidFile, match="looks semicolon-separated"):
        parse_csv("timestamp;energy_kwh\n2025-01-01;1,5\n")


def test_the_problem_count_is_the_real_one() -> None:
    rows = "".join(f"2025-01-{d:02d},1,night\n" for d in range(1, 29))
    with pytest.raises(InvalidFile) as caught:
        parse_csv("timestamp,energy_kwh,shift\n" + rows)
    assert "(and 27 more problem(s))" in caught.value.message
    assert caught.value.details["problem_count"] == 28
    assert len(caught.value.details["problems"]) == 20  # the report itself stays short
