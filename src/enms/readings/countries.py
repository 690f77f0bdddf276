"""ISO 3166-1 alpha-2 country codes: the vocabulary of a machine's ``country``.

The 249 officially assigned codes (as in the tz database's ``iso3166.tab``). Kept as data
here rather than read from the system at run time, because a Windows machine or a slim
container has no ``/usr/share/zoneinfo``.
"""

from __future__ import annotations

_ROWS = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN",
    "BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ",
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL",
    "GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM",
    "JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME",
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP",
    "NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD",
    "SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO",
    "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW",
)
ISO_3166_ALPHA2: frozenset[str] = frozenset(code for row in _ROWS for code in row.split())


def normalise_country(value: str) -> str:
    """Upper-case, stripped ISO 3166-1 alpha-2 code; ``ValueError`` if not assigned.

    >>> normalise_country(" de ")
    'DE'
    >>> normalise_country("UK")
    Traceback (most recent call last):
    ...
    ValueError: 'UK' is not an ISO 3166-1 alpha-2 country code (the United Kingdom is 'GB')
    """
    code = value.strip().upper()
    if code in ISO_3166_ALPHA2:
        return code
    hint = " (the United Kingdom is 'GB')" if code == "UK" else " (e.g. 'DE', 'FR', 'US')"
    raise ValueError(f"{value.strip()!r} is not an ISO 3166-1 alpha-2 country code{hint}")
