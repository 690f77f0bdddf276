"""The promotion decision: the gate's ordered rules, promotion and rollback of the champion,
and the watch after a promotion that rolls a worse champion back (guarded rollback)."""
