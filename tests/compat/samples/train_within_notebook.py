# v1 (2019): train Ridge models within the notebook, one run per alpha, register the best.
import os

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.externals import joblib
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from tqdm import tqdm

from azureml.core import Experiment, Run, Workspace
from azureml.core.model import Model

ws = Workspace.from_config()
experiment = Experiment(workspace=ws, name='train-within-notebook')

X, y = load_diabetes(return_X_y=True)
columns = ['age', 'gender', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6']
x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

alphas = np.arange(0.0, 1.0, 0.2)
for alpha in tqdm(alphas):
    # create a bunch of runs, each train a model with a different alpha value
    with experiment.start_logging() as run:
        # Use Ridge algorithm to build a regression model
        model = Ridge(alpha=alpha)
        model.fit(X=x_train, y=y_train)
        y_pred = model.predict(X=x_test)
        mse = mean_squared_error(y_true=y_test, y_pred=y_pred)

        # log alpha, mean_squared_error and feature names in run history
        run.log(name='alpha', value=alpha)
        run.log(name='mse', value=mse)
        run.log_list(name='columns', value=columns)

        model_name = 'model_alpha_' + str(alpha) + '.pkl'
        with open(model_name, 'wb') as file:
            joblib.dump(value=model, filename=file)
        run.upload_file(name='outputs/' + model_name, path_or_stream=model_name)
        os.remove(path=model_name)

runs = {}
run_metrics = {}
for r in tqdm(experiment.get_runs()):
    metrics = r.get_metrics()
    if 'mse' in metrics.keys():
        runs[r.id] = r
        run_metrics[r.id] = metrics

best_run_id = min(run_metrics, key=lambda k: run_metrics[k]['mse'])
best_run = runs[best_run_id]
print('Best run is:', best_run_id)
print('Metrics:', run_metrics[best_run_id])
best_run.tag(key="Description", value="The best one")

for f in best_run.get_file_names():
    if f.startswith('outputs/model'):
        model_path = f
model = best_run.register_model(model_name='best_model', model_path=model_path)
print("MODEL", model.name, model.version, model.id)

models = Model.list(workspace=ws, name='best_model')
for m in models:
    print(m.name, m.version)
