"""Local stand-ins for v1 modules that have no amlhandson counterpart.

The import hook serves ``azureml.core.authentication``, ``azureml.telemetry`` and,
until :mod:`amlhandson.opendatasets` exists, ``azureml.opendatasets`` from here;
``azureml.core.run.get_run`` comes from :mod:`.runs`. Import them through
``azureml.*`` once :func:`amlhandson.compat.install` ran.

Example:
    >>> from amlhandson.compat.v1.telemetry import get_diagnostics_collection_info
    >>> get_diagnostics_collection_info()["send_diagnostics"]
    False
"""
