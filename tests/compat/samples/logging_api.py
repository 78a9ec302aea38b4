# v1 (2019): every kind of metric, an image, a file, tags, properties and a child run.
import os

import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

from azureml.core import Experiment, Run, Workspace

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name='logging-api-test')

# start logging for the run
run = exp.start_logging()

# log a string value
run.log(name='Name', value='Logging API run')

# log a numerical value
run.log(name='Magic Number', value=42)

# Log a list of values. Note this will generate a single-variable line chart.
run.log_list(name='Fibonacci', value=[0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89])

# create a dictionary to hold a table of values
sines = {}
sines['angle'] = []
sines['sine'] = []

for i in tqdm(range(-10, 10)):
    # log a metric value repeatedly, this will generate a single-variable line chart.
    run.log(name='Sigmoid', value=1 / (1 + np.exp(-i)))
    angle = i / 2.0

    # log a 2 (or more) values as a metric repeatedly.
    run.log_row(name='Cosine Wave', angle=angle, cos=np.cos(angle))

    sines['angle'].append(angle)
    sines['sine'].append(np.sin(angle))

# log a dictionary as a table
run.log_table(name='Sine Wave', value=sines)

# log a matplotlib pyplot object
angle = np.linspace(-3, 3, 50)
plt.plot(angle, np.tanh(angle), label='tanh')
plt.legend(fontsize=12)
plt.title('Hyperbolic Tangent', fontsize=16)
plt.grid(True)
run.log_image(name='Hyperbolic Tangent', plot=plt)

# upload an arbitrary file
with open('myfile.txt', 'w') as f:
    f.write('This is a dummy file.')
run.upload_file(name='myfile_in_the_cloud.txt', path_or_stream='./myfile.txt')

run.tag('quality', 'fantastic run')
run.tag('DeploymentCandidate')
run.add_properties({'author': 'workshop'})

child = run.child_run(name='child-1')
child.log('child metric', 1)
child.complete()

run.complete()

print(run.get_metrics())
print(run.get_file_names())

os.makedirs('files', exist_ok=True)
for f in run.get_file_names():
    dest = os.path.join('files', f.split('/')[-1])
    print('Downloading file {} to {}...'.format(f, dest))
    run.download_file(f, dest)

print("RUN_ID", run.id)
