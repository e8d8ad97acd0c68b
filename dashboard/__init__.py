"""Streamlit glue for the recommendation dashboard.

``state`` (session-state keys), ``cache`` (every cached call), ``actions`` (what buttons do),
``views/`` (one module per page), ``render`` (helpers the pages share), ``charts/`` (plotly
figures), ``profile`` (pure pandas shaping) and ``columns`` (the dashboard's own column names).
"""
