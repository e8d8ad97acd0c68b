"""One render module per page: the pieces a page shows, so the page itself stays short.

``data`` (Data), ``model`` (Model), ``customers`` (Customer explorer), ``rewards`` (Rewards),
``saved_models`` (Saved models). Each reads its data from :mod:`dashboard.cache` and renders it;
helpers several pages share live in :mod:`dashboard.render`.
"""
