"""``amlhandson.widgets``: v1's ``azureml.widgets``, working in JupyterLab 4.

``RunDetails(run).show()`` displays a run's status, duration, metrics (a
table, one chart per series), logged images, child runs, log and files. It is
built from ipywidgets core widgets only (no nbextension, no custom MIME
renderer) and refreshes live until the run ends. Where no widget front-end
exists (nbconvert, nbval, GitHub) the same output shows a static HTML / text
summary instead of a bare widget repr.

Importing this package is light: ipywidgets is imported only when a view is
built.

Example:
    >>> from amlhandson.widgets import RunDetails
    >>> RunDetails(run).show()  # doctest: +SKIP
"""

from __future__ import annotations

from ._summary import RunSummary
from ._widget import RunDetails

__all__ = ["RunDetails", "RunSummary"]
