"""Campaign Lens engine: ingestion, KPIs, trends, funnels, goals and A/B statistics.

Pure computation with polars; never imports streamlit (tests/unit/test_house_rules.py checks).
"""

__version__ = "0.1.0"
