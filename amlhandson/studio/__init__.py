"""AML Studio, locally: a web portal for the workspaces on this machine.

The portal is a Jupyter server extension (pure Python, no npm build): pages at
``<base_url>studio/``, a JSON API at ``<base_url>studio/api/...``. It is enabled
automatically when amlhandson is installed, so it runs inside the JupyterLab a
learner already has open (Launcher card "AML Studio", ``%aml_studio``), and
standalone as ``amlhandson studio``. See docs/studio.md.

Modules: ``app`` (the ``ExtensionApp``), ``pages`` / ``api`` (handlers), ``_data``
(the only module that reads workspace data), ``_render`` (views and charts),
``_web`` (shared handler code), ``links`` (URLs of a running studio, for code
outside the studio), ``proxy`` (the JupyterLab Launcher entry), ``extension``
(the entry point the Jupyter server loads).

This package imports nothing at import time, so ``amlhandson.studio.links`` is
cheap to use from anywhere.

Example:
    >>> from amlhandson.studio import links
    >>> links.run_url(run) or links.how_to_start()  # doctest: +SKIP
"""
