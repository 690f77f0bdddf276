"""Energy KPIs (ISO 50001 / ISO 50006) per machine and day (``kpi_calculate``)."""
