"""Insights no reporting tool gives (issue 15): why a KPI moved, budget pacing, anomalies, forecasts, annotations.

Pure computation, no streamlit. Every module takes plain values (frames, mappings, dataclasses) and returns
frozen dataclasses with ``to_dict`` so a page, a report file and ``python -m metrics insights`` share them:

- ``drivers``: a KPI change split exactly into its factors (log decomposition) and into budget mix vs each
  platform's own change;
- ``pacing``: monthly budgets against spend to date, the projected month end and the daily spend needed;
- ``anomalies``: days outside an expected band learnt with weekday seasonality (statsmodels STL);
- ``forecast``: spend, conversions and revenue projected to a period end with a band (statsmodels OLS);
- ``annotations``: dated notes, including public holidays from the ``holidays`` package.

statsmodels and holidays are imported inside the functions that need them, so importing this package (or
running ``python -m metrics report``) does not pay for them.
"""
