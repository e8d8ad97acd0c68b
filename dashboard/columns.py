"""Names of the columns the dashboard derives itself (aggregates shown in charts and tables).

Input and core output columns come from :mod:`recsys.data.schema`; these are the few extra ones the
dashboard computes (monthly activity, counts, audience sizes), spelled once here.
"""

from __future__ import annotations

MONTH = "month"
N_PURCHASES = "n_purchases"
N_CUSTOMERS = "n_customers"
SPEND = "spend"
STATUS = "status"
AUDIENCE = "audience"
AUDIENCE_SHARE = "audience_share"
