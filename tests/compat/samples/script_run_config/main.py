# v1 (2019): train on the local machine with a user-managed environment.
from azureml.core import Experiment, ScriptRunConfig, Workspace
from azureml.core.runconfig import RunConfiguration

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name='train-on-local')

run_config_user_managed = RunConfiguration()
run_config_user_managed.environment.python.user_managed_dependencies = True

src = ScriptRunConfig(source_directory='.', script='train.py',
                      arguments=['--data-folder', 'data', '--regularization', '0.5'],
                      run_config=run_config_user_managed)
run = exp.submit(src)
run.wait_for_completion(show_output=True)
print("STATUS", run.get_status())
print("METRICS", run.get_metrics())
