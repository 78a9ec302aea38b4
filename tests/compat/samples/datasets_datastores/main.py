# v1 (2019): upload to the default datastore, a file dataset, MNIST from Open Datasets.
from azureml.core import Dataset, Workspace
from azureml.opendatasets import MNIST

ws = Workspace.from_config()
datastore = ws.get_default_datastore()
print(datastore.name, datastore.datastore_type)

datastore.upload(src_dir='data', target_path='mnist', overwrite=True, show_progress=True)

mnist_ds = Dataset.File.from_files(path=[(datastore, 'mnist/*.gz')])
mnist_ds = mnist_ds.register(workspace=ws, name='mnist-files',
                             description='mnist files in the default datastore',
                             create_new_version=True)
print("FILES", sorted(Dataset.get_by_name(ws, name='mnist-files').to_path()))

mnist_file_dataset = MNIST.get_file_dataset()
mnist_file_dataset.download('mnist-open', overwrite=True)
mnist_file_dataset = mnist_file_dataset.register(workspace=ws, name='mnist_opendataset',
                                                 description='training and test dataset',
                                                 create_new_version=True)
print("REGISTERED", mnist_file_dataset.name)
