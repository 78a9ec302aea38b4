"""Web services (v1's ``azureml.core.webservice``): deploy score.py as a local REST service.

``from azureml.core.webservice import Webservice, AciWebservice, LocalWebservice``
becomes ``from amlhandson.core.webservice import ...``. Modules:

- :mod:`.service` / :mod:`.local` / :mod:`.aci`: ``Webservice``, ``LocalWebservice``,
  ``AciWebservice`` (the v1 objects);
  under it :mod:`._config` (deployment configurations), :mod:`._records` (the store, states),
  :mod:`._supervise` (the server process), :mod:`._client` (HTTP calls), :mod:`._keys`,
  and :mod:`._deploy` (``Model.deploy``);
- the scoring server process: :mod:`._server` (entry point), :mod:`._settings`
  (``server.json``), :mod:`._http` (uvicorn and its limits), :mod:`._front` (routes),
  :mod:`._pool` (score worker processes: timeouts, restarts), :mod:`._worker` (one worker),
  :mod:`._scoring` (calling ``run()``), :mod:`._limits`, :mod:`._protocol`, :mod:`._logs`;
- :mod:`._layout` / :mod:`._package`: service folders and Docker build contexts;
- :mod:`.schema`: ``@input_schema`` / ``@output_schema`` for score.py;
- ``amlhandson services list|stop|logs`` is :mod:`amlhandson.cli.services`.

Example:
    >>> from amlhandson.core.webservice import Webservice, LocalWebservice, AciWebservice
    >>> LocalWebservice.deploy_configuration().port is None
    True
"""

from __future__ import annotations

from .aci import AciServiceDeploymentConfiguration, AciWebservice
from .local import LocalWebservice, LocalWebserviceDeploymentConfiguration
from .service import Webservice

__all__ = ["Webservice", "LocalWebservice", "AciWebservice",
           "LocalWebserviceDeploymentConfiguration", "AciServiceDeploymentConfiguration"]
