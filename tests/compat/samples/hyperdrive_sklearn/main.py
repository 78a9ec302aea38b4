# v1 (2019): HyperDrive over an SKLearn estimator on an AmlCompute cluster.
from azureml.core import Experiment, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.train.hyperdrive import (BanditPolicy, HyperDriveConfig, PrimaryMetricGoal,
                                      RandomParameterSampling, uniform)
from azureml.train.sklearn import SKLearn

ws = Workspace.from_config()

cluster_name = "cpucluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print('Found existing compute target')
except ComputeTargetException:
    print('Creating a new compute target...')
    compute_config = AmlCompute.provisioning_configuration(vm_size='STANDARD_D2_V2', max_nodes=2)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
    compute_target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)

exp = Experiment(workspace=ws, name='hyperdrive-sklearn')
estimator = SKLearn(source_directory='.', entry_script='train_diabetes.py',
                    compute_target=compute_target)

param_sampling = RandomParameterSampling({"--alpha": uniform(0.05, 1.0)})
early_termination_policy = BanditPolicy(evaluation_interval=2, slack_factor=0.1)

hyperdrive_run_config = HyperDriveConfig(estimator=estimator,
                                         hyperparameter_sampling=param_sampling,
                                         policy=early_termination_policy,
                                         primary_metric_name="mse",
                                         primary_metric_goal=PrimaryMetricGoal.MINIMIZE,
                                         max_total_runs=4,
                                         max_concurrent_runs=2)

hyperdrive_run = exp.submit(hyperdrive_run_config)
hyperdrive_run.wait_for_completion(show_output=True)

best_run = hyperdrive_run.get_best_run_by_primary_metric()
print(best_run.get_details()['runDefinition']['arguments'])
print("BEST", best_run.get_metrics()['mse'])
model = best_run.register_model(model_name='sklearn_diabetes', model_path='outputs/model.pkl')
print("MODEL", model.name, model.version)
