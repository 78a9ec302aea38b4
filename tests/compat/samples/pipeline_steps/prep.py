import argparse
import os

from sklearn.datasets import load_diabetes
from sklearn.externals import joblib

parser = argparse.ArgumentParser()
parser.add_argument('--output', dest='output', required=True)
args = parser.parse_args()

os.makedirs(args.output, exist_ok=True)
X, y = load_diabetes(return_X_y=True)
joblib.dump((X, y), os.path.join(args.output, 'diabetes.pkl'))
print('prepared', X.shape)
