import argparse
import os

from sklearn.datasets import load_diabetes
from sklearn.externals import joblib
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from azureml.core.run import Run

parser = argparse.ArgumentParser()
parser.add_argument('--alpha', type=float, dest='alpha', default=0.5, help='regularization strength')
args = parser.parse_args()

# Get handle of current run for logging and history purposes
run = Run.get_submitted_run()

X, y = load_diabetes(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

reg = Ridge(alpha=args.alpha)
reg.fit(x_train, y_train)
mse = mean_squared_error(reg.predict(x_test), y_test)

run.log("alpha", args.alpha)
run.log("mse", mse)

os.makedirs('./outputs', exist_ok=True)
joblib.dump(reg, 'outputs/model.pkl')
print('Mean Squared Error is:', mse)
