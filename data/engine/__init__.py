"""The metrics engine: the normalized dataset and table, field mappings, periods, statistics, flow
analytics, forecasts, the items behind a figure, data quality."""
