"""The energy model types and the metrics that judge them.

Pure code: no database, no HTTP. Everything here works on pandas frames indexed by
UTC timestamps with an ``energy_kwh`` column plus optional drivers
(``outdoor_temp_c``, ``production_units``, ``operating_hours``, any other numeric
column) and an optional ``is_anomaly`` label.
"""
