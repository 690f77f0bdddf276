"""The promotion policy the demo runs with.

The demo plant has 200 days of readings, and a retrain after a detected change starts its
window at the change point (about 18 days in the compressor's story): CalTRACK's data
sufficiency (a 365-day baseline period) cannot hold for any demo baseline, so the promotion
gate's ``sufficiency`` rule would keep every retrained version out. The demo turns that one
rule off (``ENMS_PROMOTION__REQUIRE_SUFFICIENCY=false``) unless it was set explicitly; every
other rule (the A/B test's, ASHRAE Guideline 14) still decides.
"""

from __future__ import annotations

from enms.core.config import Settings


def demo_policy(settings: Settings) -> Settings:
    """``settings`` with the demo's promotion policy (see the module doc)."""
    promotion = settings.promotion
    if "require_sufficiency" in promotion.model_fields_set:
        return settings
    return settings.model_copy(
        update={"promotion": promotion.model_copy(update={"require_sufficiency": False})}
    )
