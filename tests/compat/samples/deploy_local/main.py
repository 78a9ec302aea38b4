# v1 (2019): register a model, deploy it as a local web service, call it, delete it.
import json

from sklearn.datasets import load_diabetes
from sklearn.externals import joblib
from sklearn.linear_model import Ridge

from azureml.core import Workspace
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.environment import Environment
from azureml.core.model import InferenceConfig, Model
from azureml.core.webservice import LocalWebservice, Webservice

ws = Workspace.from_config()

X, y = load_diabetes(return_X_y=True)
reg = Ridge(alpha=0.1).fit(X, y)
joblib.dump(reg, 'sklearn_regression_model.pkl')

model = Model.register(model_path="sklearn_regression_model.pkl",
                       model_name="sklearn_regression_model.pkl",
                       tags={'area': "diabetes", 'type': "regression"},
                       description="Ridge regression model to predict diabetes",
                       workspace=ws)

environment = Environment("LocalDeploy")
environment.python.conda_dependencies = CondaDependencies.create(conda_packages=['scikit-learn'])

inference_config = InferenceConfig(entry_script="score.py", environment=environment)
deployment_config = LocalWebservice.deploy_configuration()

local_service = Model.deploy(ws, "test-2019", [model], inference_config, deployment_config)
local_service.wait_for_deployment()
print('Local service port: {}'.format(local_service.port))
print(local_service.get_logs())

sample_input = json.dumps({
    'data': [
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    ]
})
sample_input = bytes(sample_input, encoding='utf-8')
result = local_service.run(input_data=sample_input)
print("RESULT", json.dumps(result))

local_service.delete()
print("SERVICES", [s.name for s in Webservice.list(ws)])
