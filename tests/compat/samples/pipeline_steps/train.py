import argparse
import os

from sklearn.externals import joblib
from sklearn.linear_model import Ridge

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument('--input', dest='input', required=True)
args = parser.parse_args()

run = Run.get_context()
X, y = joblib.load(os.path.join(args.input, 'diabetes.pkl'))
reg = Ridge(alpha=0.1).fit(X, y)
run.log('r2', reg.score(X, y))
