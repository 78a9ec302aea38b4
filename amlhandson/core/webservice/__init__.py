"""Web services (v1's ``azureml.core.webservice``): deploy score.py as a local REST service.

``from azureml.core.webservice import Webservice, AciWebservice, LocalWebservice``
becomes ``from amlhandson.core.webservice import ...``. Modules:

- :mod:`.service`: ``Webservice``, ``LocalWebservice``, ``AciWebservice`` (the manager);
- :mod:`._server` / :mod:`._app`: the scoring-server process and its WSGI app (waitress);
- :mod:`._layout` / :mod:`._package`: service folders and Docker build contexts;
- :mod:`.schema`: ``@input_schema`` / ``@output_schema`` for score.py;
- ``amlhandson services list|stop|logs`` is :mod:`amlhandson.cli.services`.

Example:
    >>> from amlhandson.core.webservice import Webservice, LocalWebservice, AciWebservice
    >>> LocalWebservice.deploy_configuration().port is None
    True
"""

from __future__ import annotations

from .service import (
    AciServiceDeploymentConfiguration,
    AciWebservice,
    LocalWebservice,
    LocalWebserviceDeploymentConfiguration,
    Webservice,
)

__all__ = ["Webservice", "LocalWebservice", "AciWebservice",
           "LocalWebserviceDeploymentConfiguration", "AciServiceDeploymentConfiguration"]
