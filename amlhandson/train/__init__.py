"""Azure ML v1's ``azureml.train``: estimators and HyperDrive.

``amlhandson.train.estimator.Estimator`` and ``amlhandson.train.sklearn.SKLearn``
are the 2019 way to describe a training script; ``amlhandson.train.hyperdrive``
searches hyperparameters over many runs of it.

Example:
    >>> from amlhandson.train.sklearn import SKLearn
    >>> from amlhandson.train.hyperdrive import GridParameterSampling, choice
"""
