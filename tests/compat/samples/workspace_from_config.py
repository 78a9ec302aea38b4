# v1 (2019): check the SDK, connect to the workspace of config.json, authenticate.
import azureml.core
from azureml.core import Workspace
from azureml.core.authentication import InteractiveLoginAuthentication
from azureml.telemetry import set_diagnostics_collection

# Check core SDK version number
print("SDK version:", azureml.core.VERSION)

set_diagnostics_collection(send_diagnostics=True)

ws = Workspace.from_config()
print('Workspace name: ' + ws.name,
      'Azure region: ' + ws.location,
      'Subscription id: ' + ws.subscription_id,
      'Resource group: ' + ws.resource_group, sep='\n')

interactive_auth = InteractiveLoginAuthentication(tenant_id="my-tenant-id")
ws_again = Workspace(subscription_id=ws.subscription_id,
                     resource_group=ws.resource_group,
                     workspace_name=ws.name,
                     auth=interactive_auth)
ws_again.write_config(path="aml_config")
ws_from_file = Workspace.from_config(path="aml_config/config.json", auth=interactive_auth)
print("SAME", ws_again.name == ws.name == ws_from_file.name)
