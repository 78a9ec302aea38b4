# v1 (2019): a two-step pipeline with named intermediate data.
from azureml.core import Experiment, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.core.runconfig import RunConfiguration
from azureml.pipeline.core import Pipeline, PipelineData
from azureml.pipeline.steps import PythonScriptStep

ws = Workspace.from_config()
datastore = ws.get_default_datastore()

try:
    compute_target = ComputeTarget(workspace=ws, name="cpucluster")
except ComputeTargetException:
    compute_config = AmlCompute.provisioning_configuration(vm_size='STANDARD_D2_V2', max_nodes=2)
    compute_target = ComputeTarget.create(ws, "cpucluster", compute_config)
    compute_target.wait_for_completion(show_output=True)

run_config = RunConfiguration()
prepped_data = PipelineData("prepped_data", datastore=datastore)

prep_step = PythonScriptStep(name="prep", script_name="prep.py",
                             arguments=["--output", prepped_data], outputs=[prepped_data],
                             compute_target=compute_target, runconfig=run_config,
                             source_directory=".", allow_reuse=True)
train_step = PythonScriptStep(name="train", script_name="train.py",
                              arguments=["--input", prepped_data], inputs=[prepped_data],
                              compute_target=compute_target, runconfig=run_config,
                              source_directory=".", allow_reuse=True)

pipeline = Pipeline(workspace=ws, steps=[train_step])
pipeline.validate()
pipeline_run = Experiment(ws, 'pipeline-2019').submit(pipeline, regenerate_outputs=False)
pipeline_run.wait_for_completion(show_output=False)
for step_run in pipeline_run.get_children():
    print("STEP", step_run.name, step_run.get_status())
