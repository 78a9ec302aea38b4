"""Source of notebooks/08-pipelines.ipynb (see tools/build_notebooks.py)."""

NAME = "08-pipelines"

CELLS = [
    ("markdown", r"""
# 08 パイプラインで、データの準備・学習・比較をつなげる

ハンズオンの資料は、**データストア** と **パイプライン** を service の大事な概念として紹介していました。

- データストアは「Azure Storage アカウントに対する抽象化」で、各ワークスペースには「すぐに使用できる登録済みの既定のデータストア」がある
- パイプラインでは「すべてのデータ ソース、入力、出力は、パイプライン全体で再利用できるように、厳密に名前付けされて」いる
- 「タスクと実行のスケジュールを設定」でき、「個々のステップにコンピューティング先を柔軟に割り当て」られ、
  「パイプライン スクリプトを再利用し、さまざまなプロセス (再トレーニングやバッチスコアリングなど) 用にカスタマイズ」できる

資料では文章だけでしたが、このノートブックでは実際に動かします。MNIST をデータセットとして登録し、
「前処理 → kNN とロジスティック回帰を **並列に** 学習 → 比べて良いほうを登録」という 3 段のパイプラインを作って実行します。
コードは 2019 年の Azure Machine Learning SDK v1 の `azureml.pipeline.core` / `azureml.pipeline.steps` と同じ名前で書けます
(`from azureml.pipeline.core import ...` の代わりに `from amlhandson.pipeline.core import ...`)。

## 学習の目的

- 既定のデータストアにファイルをアップロードし、`Dataset.File.from_files` と `register` でデータセット (とそのバージョン) を登録できる
- `PythonScriptStep`、`PipelineData` (ステップの間のデータ)、`PipelineParameter` (実行のたびに変えられる値) でパイプラインを組み立て、`exp.submit` で実行できる
- 依存関係のないステップが並列に動くこと、変わっていないステップが **再利用** されること、スクリプトを 1 つ変えると
  どのステップが実行し直されるかを、理由といっしょに確かめられる
- パイプラインを **公開** して、REST エンドポイントに HTTP で実行を頼める (認証ヘッダー付き)
- **スケジュール** を作り、スケジューラーでパイプラインを自動実行できる

## 所要時間

約 40 分。時間のかかるセルは次のとおりです (2 コアのパソコンでの目安。ほかの重い処理が動いていると長くなります)。

- 「7. 実行する」の最初の実行: 約 20〜40 秒 (計算用のクラスターの起動と、2 つのモデルの学習)
- 「9. スクリプトを 1 つ変える」と「10. 公開して HTTP で呼び出す」の実行: それぞれ約 10〜20 秒
- 「11. スケジュール」のスケジューラー: 約 10〜20 秒
- 演習 1 の実行: 約 10 秒
"""),
    ("markdown", r"""
## 1. このノートブックで作るパイプライン

```mermaid
flowchart LR
    D[("データセット mnist<br/>(データストアの mnist/*.gz)")] --> P["prepare<br/>前処理 (local)"]
    P --> PD(["prepared<br/>PipelineData"])
    PD --> K["train_knn<br/>kNN (cpu-cluster)"]
    PD --> L["train_logreg<br/>ロジスティック回帰 (cpu-cluster)"]
    K --> KM(["knn_model"])
    L --> LM(["logreg_model"])
    PD --> C
    KM --> C["compare<br/>比べて良いほうを登録 (local)"]
    LM --> C
    N{{"PipelineParameter<br/>n_neighbors"}} -.-> K
```

| 用語 | 意味 |
|---|---|
| ステップ (`PythonScriptStep`) | パイプラインの 1 つの作業。1 つの Python スクリプトを、決めたコンピューティング先で実行する。実行するとステップごとに Run (子 Run) ができる |
| `PipelineData` | ステップの間で受け渡すデータ (フォルダー)。作るステップの `outputs` と、使うステップの `inputs` に同じものを書く |
| `PipelineParameter` | パイプラインを実行するたびに値を変えられる引数 (既定値つき) |
| 再利用 (reuse) | スクリプト・引数・入力の内容などが前と同じステップは、実行せずに前の結果を使う |

`train_knn` と `train_logreg` は、どちらも `prepared` だけを読み、お互いを待つ必要がありません。
このような **依存関係のないステップは同時に (並列に)** 実行されます。
"""),
    ("markdown", r"""
## 2. 準備

ワークスペースを開きます。05 や 06 と同じく、`Workspace.from_config()` は `config.json` を見つけて `docs-ws` を開きます。
HTTP のリクエストには `requests` パッケージを使います (当時の公式のノートブックと同じです)。
"""),
    ("code", r"""
import json
import sys
import time
from datetime import datetime, timedelta, timezone

import requests

from amlhandson import Experiment, Workspace
from amlhandson.core import Dataset
from amlhandson.datasets import mnist

ws = Workspace.from_config()
print(ws.name, ws.resource_group)
"""),
    ("markdown", r"""
## 3. データストアに MNIST を置く

**データストア** は、ファイルを置く場所に名前を付けたものです。2019 年の Azure では、各ワークスペースに Azure Storage の
BLOB コンテナーが 1 つ、`workspaceblobstore` という名前の **既定のデータストア** として用意されていました。
このコースでは、ワークスペースのフォルダーの中のフォルダーがその代わりです。

`mnist.download()` は、MNIST の 4 つのファイルが用意されている場所を返します (02 でそろえたもの。なければ用意します)。
それを `upload_files` でデータストアの `mnist/` にアップロードします。`overwrite=True` なので、何度実行しても同じ状態になります。
"""),
    ("code", r"""
ds = ws.get_default_datastore()
print("既定のデータストア:", ds.name, ds.datastore_type)

files = mnist.download(progress=False)
ds.upload_files([str(p) for p in files.values()], target_path="mnist", overwrite=True,
                show_progress=False)
"""),
    ("code", r"""
print(sorted(f.path for f in ds.backend.list("mnist")))
""", "nbval-check-output"),
    ("markdown", r"""
## 4. データセットとして登録する

**データセット** は、「どのデータストアのどのファイルか」という **定義** に名前を付けて登録したものです (ファイルのコピーではありません)。
`Dataset.File.from_files` にデータストアとパスの組 (`(ds, "mnist/*.gz")`、`*` はワイルドカード) を渡して作り、`register` で登録します。

- 同じ名前で登録し直すと **バージョン** が 1, 2, 3 … と増えます。`create_new_version=True` がないと、同じ名前の登録はエラーになります (v1 と同じ)。
- このコースでは、登録したときのファイルの中身の **指紋** (ハッシュ値) も記録します。中身が同じなら、登録し直しても同じバージョンが返ります。
  そのため、このノートブックを何度実行しても、バージョンは 1 のままです。
"""),
    ("code", r"""
mnist_files = Dataset.File.from_files((ds, "mnist/*.gz"))
mnist_ds = mnist_files.register(ws, name="mnist", description="MNIST の 4 つのファイル (手書き数字)",
                                tags={"source": "amlhandson.datasets.mnist"},
                                create_new_version=True)
print(mnist_ds.name, "version", mnist_ds.version)
print(mnist_ds.to_path())
""", "nbval-check-output"),
    ("markdown", r"""
登録したデータセットは、名前 (とバージョン) で取り出せます。`ws.datasets` は「名前 → 最新のデータセット」の辞書です。
"""),
    ("code", r"""
same = Dataset.get_by_name(ws, "mnist", version="latest")
print(same.version == mnist_ds.version, "mnist" in ws.datasets)
""", "nbval-check-output"),
    ("markdown", r"""
## 5. ステップのスクリプトを書く

ステップごとに、スクリプトを **別々のフォルダー** に置きます。ステップは、そのフォルダーの中身 (スナップショット) が変わったかどうかで、
再利用できるかを判断します。1 つのフォルダーに全部のスクリプトを置くと、1 つを変えただけで全部のステップが実行し直しになります。

```
pipeline/
    prepare/prepare.py           前処理: MNIST を読み、訓練とテストに分けて保存する
    train_knn/train.py           kNN を学習する
    train_logreg/train.py        ロジスティック回帰を学習する
    compare/compare.py           2 つのモデルを比べ、良いほうをモデルとして登録する
```

前処理のステップは、データセットのファイルが置かれたフォルダー (`--mnist`) を引数で受け取ります。
画像は 02 で学んだ `load_data` で読みます。時間を短くするため、訓練画像は先頭の 5,000 枚、テスト画像は先頭の 2,000 枚だけを使います。
出力のフォルダーには、データといっしょに、どの Run で作ったか (`run.id`) も `info.json` に書いておきます (あとでデータの出どころを調べられるように)。
"""),
    ("code", r"""
import os

for folder in ("prepare", "train_knn", "train_logreg", "compare", "train_tree"):
    os.makedirs(f"pipeline/{folder}", exist_ok=True)
"""),
    ("code", r"""
%%writefile pipeline/prepare/prepare.py
import argparse
import json
import os

import numpy as np

from amlhandson.core import Run
from amlhandson.datasets.mnist import load_data

parser = argparse.ArgumentParser()
parser.add_argument("--mnist", help="MNIST のファイルがあるフォルダー (データセットの入力)")
parser.add_argument("--n-train", type=int, help="使う訓練画像の数")
parser.add_argument("--n-test", type=int, help="使うテスト画像の数")
parser.add_argument("--output", help="前処理したデータを書くフォルダー (PipelineData)")
args = parser.parse_args()

X_train = load_data(os.path.join(args.mnist, "train-images.gz"), False)[:args.n_train]
y_train = load_data(os.path.join(args.mnist, "train-labels.gz"), True).reshape(-1)[:args.n_train]
X_test = load_data(os.path.join(args.mnist, "test-images.gz"), False)[:args.n_test]
y_test = load_data(os.path.join(args.mnist, "test-labels.gz"), True).reshape(-1)[:args.n_test]

run = Run.get_context()
os.makedirs(args.output, exist_ok=True)
np.savez(os.path.join(args.output, "mnist.npz"), X_train=X_train, y_train=y_train,
         X_test=X_test, y_test=y_test)
with open(os.path.join(args.output, "info.json"), "w") as f:
    json.dump({"run_id": run.id, "train": len(X_train), "test": len(X_test)}, f)

run.log("train images", len(X_train))
run.log("test images", len(X_test))
print("前処理しました:", X_train.shape, X_test.shape)
"""),
    ("markdown", r"""
学習の 2 つのステップは、前処理したデータ (`--data`) を読んで学習し、モデルと正解率 (と、作った Run の ID) を出力のフォルダー (`--output`) に書きます。
正解率は、05 で学んだ `run.log` で、ステップの Run にも記録します。kNN の k は、あとで `PipelineParameter` で変えられるように引数にします。
"""),
    ("code", r"""
%%writefile pipeline/train_knn/train.py
import argparse
import json
import os

import joblib
import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from amlhandson.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", help="前処理したデータのフォルダー")
parser.add_argument("--n-neighbors", type=int, help="kNN の k")
parser.add_argument("--output", help="モデルを書くフォルダー")
args = parser.parse_args()

data = np.load(os.path.join(args.data, "mnist.npz"))
X_train, X_test = data["X_train"] / 255.0, data["X_test"] / 255.0

model = KNeighborsClassifier(n_neighbors=args.n_neighbors)
model.fit(X_train, data["y_train"])
accuracy = float(np.average(model.predict(X_test) == data["y_test"]))

run = Run.get_context()
os.makedirs(args.output, exist_ok=True)
joblib.dump(model, os.path.join(args.output, "model.pkl"))
with open(os.path.join(args.output, "metrics.json"), "w") as f:
    json.dump({"model": f"kNN (k={args.n_neighbors})", "accuracy": accuracy, "run_id": run.id}, f)

run.log("k", args.n_neighbors)
run.log("accuracy", accuracy)
print(f"kNN (k={args.n_neighbors}) の正解率: {accuracy:.4f}")
"""),
    ("code", r"""
%%writefile pipeline/train_logreg/train.py
import argparse
import json
import os
import warnings

import joblib
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from amlhandson.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", help="前処理したデータのフォルダー")
parser.add_argument("--output", help="モデルを書くフォルダー")
args = parser.parse_args()

data = np.load(os.path.join(args.data, "mnist.npz"))
X_train, X_test = data["X_train"] / 255.0, data["X_test"] / 255.0

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model = LogisticRegression(max_iter=100).fit(X_train, data["y_train"])
accuracy = float(np.average(model.predict(X_test) == data["y_test"]))

run = Run.get_context()
os.makedirs(args.output, exist_ok=True)
joblib.dump(model, os.path.join(args.output, "model.pkl"))
with open(os.path.join(args.output, "metrics.json"), "w") as f:
    json.dump({"model": "ロジスティック回帰", "accuracy": accuracy, "run_id": run.id}, f)

run.log("accuracy", accuracy)
print(f"ロジスティック回帰の正解率: {accuracy:.4f}")
"""),
    ("markdown", r"""
比べるステップは、2 つのモデルの `metrics.json` を読み、正解率の高いほうのモデルを自分の Run の `outputs/` にコピーして、
`run.register_model` で **モデルとして登録** します (06 でノートブックから登録したのと同じメソッドを、ステップの中から呼びます)。
"""),
    ("code", r"""
%%writefile pipeline/compare/compare.py
import argparse
import json
import os
import shutil

from amlhandson.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--models", nargs="+", help="モデルのフォルダー (いくつでも)")
args = parser.parse_args()

results = []
for folder in args.models:
    with open(os.path.join(folder, "metrics.json")) as f:
        results.append((json.load(f), folder))
for metrics, _ in results:
    print(f"{metrics['model']}: {metrics['accuracy']:.4f}")
best, folder = max(results, key=lambda item: item[0]["accuracy"])

os.makedirs("outputs", exist_ok=True)
shutil.copy(os.path.join(folder, "model.pkl"), "outputs/best_model.pkl")
run = Run.get_context()
run.log("best model", best["model"])
run.log("best accuracy", best["accuracy"])
run.register_model(model_name="mnist-pipeline-best", model_path="outputs/best_model.pkl",
                   tags={"model": best["model"]}, description="パイプラインが選んだ MNIST のモデル")
print("良いほう:", best["model"])
"""),
    ("markdown", r"""
## 6. パイプラインを組み立てる

### コンピューティング先

学習の 2 つのステップは、計算用の **クラスター** `cpu-cluster` で動かします。2019 年の Azure では `AmlCompute` で仮想マシンのクラスターを作りました。
このコースの `AmlCompute` は、このパソコンの中にワーカー (計算をするプロセス) を `max_nodes` 個起動する Dask のクラスターです。
ワーカーが 2 つあるので、2 つの学習が同時に進みます。すでにあれば、それを使います (v1 のよくある書き方です)。

前処理と比較は軽いので、ノートブックと同じパソコンでそのまま動かす `'local'` にします。
"""),
    ("code", r"""
from amlhandson.core.compute import AmlCompute, ComputeTarget
from amlhandson.exceptions import ComputeTargetException

try:
    cluster = ComputeTarget(workspace=ws, name="cpu-cluster")
    print("既存のクラスターを使います:", cluster.name)
except ComputeTargetException:
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2)
    cluster = ComputeTarget.create(ws, "cpu-cluster", config)
    cluster.wait_for_completion(show_output=True)
"""),
    ("markdown", r"""
### データ、パラメーター、ステップ

- データセットは `as_named_input("mnist").as_mount()` で **ステップの入力** にします。スクリプトには、ファイルがあるフォルダーのパスが届きます。
- `PipelineData("prepared", datastore=ds)` は、前処理のステップが書き、学習のステップが読むフォルダーです。
  作るステップの `outputs` と、読むステップの `inputs` の両方に書き、`arguments` にも書いてスクリプトにパスを渡します。
- `PipelineParameter("n_neighbors", default_value=3)` は kNN の k です。実行するときに値を変えられます。
- ステップごとに `source_directory` (スクリプトのフォルダー) と `compute_target` (どこで動かすか) を指定します。
"""),
    ("code", r"""
from amlhandson.pipeline.core import Pipeline, PipelineData, PipelineParameter
from amlhandson.pipeline.steps import PythonScriptStep

mnist_input = mnist_ds.as_named_input("mnist").as_mount()
prepared = PipelineData("prepared", datastore=ds)
knn_model = PipelineData("knn_model", datastore=ds)
logreg_model = PipelineData("logreg_model", datastore=ds)
n_neighbors = PipelineParameter(name="n_neighbors", default_value=3)

prepare_step = PythonScriptStep(
    name="prepare", script_name="prepare.py", source_directory="pipeline/prepare",
    arguments=["--mnist", mnist_input, "--n-train", 5000, "--n-test", 2000, "--output", prepared],
    inputs=[mnist_input], outputs=[prepared], compute_target="local")

knn_step = PythonScriptStep(
    name="train_knn", script_name="train.py", source_directory="pipeline/train_knn",
    arguments=["--data", prepared, "--n-neighbors", n_neighbors, "--output", knn_model],
    inputs=[prepared], outputs=[knn_model], compute_target=cluster)

logreg_step = PythonScriptStep(
    name="train_logreg", script_name="train.py", source_directory="pipeline/train_logreg",
    arguments=["--data", prepared, "--output", logreg_model],
    inputs=[prepared], outputs=[logreg_model], compute_target=cluster)

compare_step = PythonScriptStep(
    name="compare", script_name="compare.py", source_directory="pipeline/compare",
    arguments=["--models", knn_model, logreg_model],
    inputs=[knn_model, logreg_model], compute_target="local")

pipeline = Pipeline(workspace=ws, steps=[compare_step],
                    description="MNIST: 前処理 → kNN とロジスティック回帰 → 比較と登録")
print(pipeline)
print("問題:", pipeline.validate())
""", "nbval-check-output"),
    ("markdown", r"""
`Pipeline` には `compare_step` しか渡していませんが、`compare_step` が読むデータを作るステップ、そのステップが読むデータを作るステップ … と
たどって、4 つのステップ全部が入りました (v1 と同じです)。`validate()` は、つながっていないデータ、循環、知らないコンピューティング先などを
調べて、問題を一覧で返します。空のリストなら実行できます。

わざとまちがえると、どう表示されるでしょう。`prepared` を読むのに、それを作るステップを入れないパイプラインを作ってみます。
"""),
    ("code", r"""
orphan = PipelineData("orphan", datastore=ds)
broken_step = PythonScriptStep(name="broken", script_name="train.py",
                               source_directory="pipeline/train_logreg",
                               arguments=["--data", orphan, "--output", "x"], inputs=[orphan])
for problem in Pipeline(ws, steps=[broken_step]).validate():
    print("-", problem)
"""),
    ("markdown", r"""
## 7. 実行する

パイプラインも、05 の Run と同じく実験 (`Experiment`) に `submit` します。戻り値はパイプライン全体の Run (`PipelineRun`) で、
ステップごとの Run はその子 Run になります。

`regenerate_outputs=True` は「前の結果を再利用せず、すべてのステップを実行する」という指定です (v1 と同じ)。
このノートブックをもう一度実行したときも、ここで全部実行し直すように付けています (再利用は 8 で見ます)。

`RunDetails` で、パイプラインの図と各ステップの状態を見られます。実行中は自動で更新され、ステップの色が
待ち (灰) → 実行中 (青) → 完了 (緑) と変わっていきます。`wait_for_completion(show_output=True)` は、ステップの状態が変わるたびに 1 行表示します。
"""),
    ("code", r"""
from amlhandson.widgets import RunDetails

exp = Experiment(ws, "mnist-pipeline")
start = time.perf_counter()
pipeline_run = exp.submit(pipeline, regenerate_outputs=True)
RunDetails(pipeline_run).show()
pipeline_run.wait_for_completion(show_output=True)
print(f"かかった時間: {time.perf_counter() - start:.1f} 秒")
"""),
    ("markdown", r"""
ステップの Run は `find_step_run(名前)` で取り出せます (リストが返ります)。ステップの Run には、スクリプトが `run.log` で記録した値と、
スクリプトの出力 (ログ) があります。
"""),
    ("code", r"""
for name in ("prepare", "train_knn", "train_logreg", "compare"):
    step = pipeline_run.find_step_run(name)[0]
    print(f"{name:13s} {step.get_status():10s} {step.get_metrics()}")
"""),
    ("code", r"""
print(pipeline_run.find_step_run("compare")[0].get_job_log())
"""),
    ("markdown", r"""
`train_knn` と `train_logreg` は、本当に同時に動いたでしょうか。2 つのステップ Run の開始と終了の時刻を比べます
(`get_details()` の `startTimeUtc` と `endTimeUtc`)。片方が終わる前に、もう片方が始まっていれば並列です。
"""),
    ("code", r"""
def times(step_name):
    details = pipeline_run.find_step_run(step_name)[0].get_details()
    return details["startTimeUtc"], details["endTimeUtc"]


knn_start, knn_end = times("train_knn")
logreg_start, logreg_end = times("train_logreg")
print("並列に動いた:", knn_start < logreg_end and logreg_start < knn_end)
"""),
    ("markdown", r"""
比べるステップが登録したモデルは、06 と同じく `Model` で取り出せます。タグに、選ばれたモデルの名前が入っています。
"""),
    ("code", r"""
from amlhandson.core.model import Model

best = Model(ws, "mnist-pipeline-best")
print(best.id, best.tags)
"""),
    ("markdown", r"""
## 8. もう一度実行する: 再利用

何も変えずに、もう一度 `submit` します。スクリプト、引数、パラメーター、コンピューティング先の種類、入力のデータの **中身** が
前と同じステップは、実行せずに前の結果を **再利用** します。4 つとも再利用されるので、すぐに終わります。

v1 では「なぜ再利用された (されなかった) のか」がわかりにくい、という声がありました。このコースでは、ステップごとに理由が記録され、
`print_reuse_report()` で表示できます。
"""),
    ("code", r"""
start = time.perf_counter()
again = exp.submit(pipeline)
again.wait_for_completion(show_output=False)
print(f"かかった時間: {time.perf_counter() - start:.1f} 秒")
again.print_reuse_report()
"""),
    ("code", r"""
print({step.step_name: step.reused for step in again.get_steps()})
""", "nbval-check-output"),
    ("markdown", r"""
## 9. スクリプトを 1 つ変える

kNN のスクリプトを変えてみます。近い画像ほど重く数える `weights="distance"` を付けます。ほかのスクリプトはそのままです。
"""),
    ("code", r"""
with open("pipeline/train_knn/train.py", encoding="utf-8") as f:
    source = f.read()
with open("pipeline/train_knn/train.py", "w", encoding="utf-8") as f:
    f.write(source.replace("KNeighborsClassifier(n_neighbors=args.n_neighbors)",
                           'KNeighborsClassifier(n_neighbors=args.n_neighbors, weights="distance")'))
"""),
    ("markdown", r"""
もう一度実行すると、どのステップが実行し直されるでしょうか。予想してから実行してみましょう。
"""),
    ("code", r"""
changed = exp.submit(pipeline)
changed.wait_for_completion(show_output=True)
changed.print_reuse_report()
"""),
    ("markdown", r"""
- `train_knn` は、スクリプトのフォルダーのファイル (`train.py`) が変わったので実行し直されました。
- `compare` は、入力の `knn_model` の中身が変わったので実行し直されました。
- `prepare` と `train_logreg` は、何も変わっていないので再利用されました。ステップごとにフォルダーを分けたおかげです。

再利用するかどうかは、ファイルの日時ではなく **中身** (ハッシュ値) で判断します。スクリプトを書き換えても、中身が前と同じに戻れば、また再利用されます。
"""),
    ("markdown", r"""
## 10. パイプラインを公開して、HTTP で実行を頼む

パイプラインを **公開** (publish) すると、名前とバージョンが付いて固定され、**REST エンドポイント** (HTTP で実行を頼める URL) ができます。
ほかのプログラムや、ノートブックを開いていない人でも、HTTP のリクエストでパイプラインを実行できるようになります。

`publish_pipeline` は、その Run で実行したパイプラインを公開します。公開したパイプラインはスクリプトも含めて固定されるので、
あとでスクリプトを書き換えても、公開したものは変わりません。
"""),
    ("code", r"""
published = changed.publish_pipeline(name="mnist-pipeline", description="MNIST: 前処理・学習・比較",
                                     version="1.0")
print(published.name, published.version, published.status)
print(published.parameters)
""", "nbval-check-output"),
    ("markdown", r"""
エンドポイントの URL は `published.endpoint` です。このコースでは、このパソコンの中 (`127.0.0.1`) にエンドポイントのサーバーが起動します
(ノートブックを閉じても動き続けます)。

リクエストには、v1 と同じく `InteractiveLoginAuthentication().get_authentication_header()` で作った **認証ヘッダー** を付けます。
2019 年の Azure ではログインしたユーザーのトークンでした。このコースでは、このパソコンのあなた専用の **キー** (`~/.amlhandson/auth/key`、
ほかのユーザーは読めないファイル) です。本文には、実験の名前 (`ExperimentName`) と、パラメーターの値 (`ParameterAssignments`) を書きます。
"""),
    ("code", r"""
from amlhandson.core.authentication import InteractiveLoginAuthentication

auth = InteractiveLoginAuthentication()
aml_pipeline_header = auth.get_authentication_header()
print(list(aml_pipeline_header))

response = requests.post(published.endpoint, headers=aml_pipeline_header,
                         json={"ExperimentName": "mnist-pipeline-rest",
                               "ParameterAssignments": {"n_neighbors": 5}})
print("HTTP", response.status_code)
rest_run_id = response.json()["Id"]
"""),
    ("markdown", r"""
答えの `Id` が、始まったパイプラインの Run の ID です。`PipelineRun(実験, ID)` で、ノートブックから見られます。
k を 5 に変えたので、`train_knn` と `compare` だけが実行され、ほかは再利用されます。
"""),
    ("code", r"""
from amlhandson.pipeline.core import PipelineRun

rest_run = PipelineRun(Experiment(ws, "mnist-pipeline-rest"), rest_run_id)
rest_run.wait_for_completion(show_output=True)
print(rest_run.find_step_run("train_knn")[0].get_metrics())
"""),
    ("markdown", r"""
認証ヘッダーを付けないと、どうなるでしょう。サーバーはリクエストを受け付けず、**401** (Unauthorized: 認証が必要) を返します。
"""),
    ("code", r"""
no_auth = requests.post(published.endpoint, json={"ExperimentName": "mnist-pipeline-rest"})
print("HTTP", no_auth.status_code)
print(no_auth.json()["error"]["message"])
""", "nbval-check-output"),
    ("markdown", r"""
## 11. スケジュールで自動実行する

公開したパイプラインは、**スケジュール** で決まった時刻に自動で実行できます (毎晩の再学習など)。
`ScheduleRecurrence` で「何分/何時間/何日ごと」かを決め、`Schedule.create` で作ります。ここでは、今から 5 秒後に始まり、1 分ごとに実行するスケジュールを作ります。

2019 年の Azure ではスケジュールはサービスの中で動きました。このコースでは、**スケジューラー** (`amlhandson schedules run`) を実行している間だけ、
スケジュールが動きます。教室のパソコンでは、ターミナルで動かしておくか、ユーザーのサービスとして登録します (docs/pipelines.md)。
"""),
    ("code", r"""
from amlhandson.pipeline.core import Schedule, ScheduleRecurrence

for old in Schedule.list(ws):  # このノートブックを前に実行したときのスケジュールは止めておく
    if old.name == "mnist-every-minute":
        old.disable()

recurrence = ScheduleRecurrence(frequency="Minute", interval=1,
                                start_time=datetime.now(timezone.utc) + timedelta(seconds=5))
schedule = Schedule.create(ws, name="mnist-every-minute", pipeline_id=published.id,
                           experiment_name="mnist-pipeline-schedule", recurrence=recurrence,
                           description="1 分ごとに実行")
print(schedule.name, schedule.status)
"""),
    ("markdown", r"""
スケジューラーを、ノートブックの中から 1 回分だけ動かします (`!` はターミナルのコマンドを実行する印)。
`--max-firings 1` は「1 回実行を始めたら終わる」、`--timeout 120` は「120 秒たったら終わる」という意味です。
ふだんはこの 2 つを付けずに実行し、Ctrl-C で止めます。
"""),
    ("code", r"""
!{sys.executable} -m amlhandson.cli schedules run --interval 1 --max-firings 1 --timeout 120
"""),
    ("markdown", r"""
スケジュールが始めた実行は、`schedule.firings()` に記録されます。始まったパイプラインの Run には、どのスケジュールから始まったかを表す **タグ** が付いています。
"""),
    ("code", r"""
firing = schedule.firings()[-1]
scheduled_run = PipelineRun(Experiment(ws, "mnist-pipeline-schedule"), firing.run_id)
scheduled_run.wait_for_completion(show_output=False)
print(scheduled_run.get_status())
print(scheduled_run.get_tags()["amlhandson.schedule"])
""", "nbval-check-output"),
    ("markdown", r"""
確かめられたので、スケジュールを止めます (止めないと、スケジューラーを動かすたびに実行されます)。
"""),
    ("code", r"""
schedule.disable()
print(schedule.status)
""", "nbval-check-output"),
    ("markdown", r"""
ターミナルからも、パイプラインの Run、公開したパイプライン、データセットを見られます。
"""),
    ("code", r"""
!{sys.executable} -m amlhandson.cli pipelines list --runs --top 3
!{sys.executable} -m amlhandson.cli datasets list
"""),
    ("markdown", r"""
## 演習

演習のセルを書き換えて実行し、すぐ下のチェックのセルを実行します。詰まったらヒントを 1 つずつ開きましょう。
解答例は、この節の最後の「演習の解答例」にあります。

### 演習 1: 3 つめのモデルのステップを書く

決定木 (decision tree) でも学習してみます。スクリプト `pipeline/train_tree/train.py` は下のセルで用意します
(引数は `--data` (前処理したデータのフォルダー) と `--output` (モデルを書くフォルダー))。

1. 決定木のモデルを書き出す `PipelineData` を、名前 **`tree_model`** で作る
2. このスクリプトを `cpu-cluster` で動かす `PythonScriptStep` を、名前 **`train_tree`** で作り、`my_step` に入れる
   (前処理したデータ `prepared` を読み、`tree_model` に書く)
3. `my_step` だけを渡した `Pipeline` を `exp` に submit し、終わるまで待ってから、その Run を `my_run` に入れる

チェックのセルは、あなたのパイプラインの Run で、`train_tree` のステップが `prepared` を読んで `tree_model` に書き、
正解率を記録したかを調べます。`prepare` は再利用されるはずです。
"""),
    ("code", r"""
%%writefile pipeline/train_tree/train.py
import argparse
import json
import os

import joblib
import numpy as np
from sklearn.tree import DecisionTreeClassifier

from amlhandson.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", help="前処理したデータのフォルダー")
parser.add_argument("--output", help="モデルを書くフォルダー")
args = parser.parse_args()

data = np.load(os.path.join(args.data, "mnist.npz"))
model = DecisionTreeClassifier(max_depth=12, random_state=0).fit(data["X_train"], data["y_train"])
accuracy = float(np.average(model.predict(data["X_test"]) == data["y_test"]))

run = Run.get_context()
os.makedirs(args.output, exist_ok=True)
joblib.dump(model, os.path.join(args.output, "model.pkl"))
with open(os.path.join(args.output, "metrics.json"), "w") as f:
    json.dump({"model": "決定木", "accuracy": accuracy, "run_id": run.id}, f)
run.log("accuracy", accuracy)
print(f"決定木の正解率: {accuracy:.4f}")
"""),
    ("code", r"""
# 演習 1: None を書き換えてください
tree_model = None
my_step = None
my_run = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check_pipeline_step

check_pipeline_step(my_run, step="train_tree", reads=["prepared"], writes=["tree_model"],
                    metrics={"accuracy": ...}, reused=["prepare"],
                    hint="6 の knn_step と同じ形です。スクリプトのフォルダーと出力のデータだけが違います。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

6 の `logreg_step` とほとんど同じです。出力は新しい `PipelineData`、スクリプトのフォルダーは `pipeline/train_tree` です。
パイプラインに渡すのは `my_step` だけで大丈夫です: それが読む `prepared` を作る `prepare_step` は自動で入ります。
実行と待ち方は 7 と同じです。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
tree_model = PipelineData("tree_model", datastore=ds)
my_step = PythonScriptStep(name="train_tree", script_name="train.py", source_directory=...,
                           arguments=["--data", prepared, "--output", ...],
                           inputs=[...], outputs=[...], compute_target=cluster)
my_run = exp.submit(Pipeline(ws, steps=[...]))
my_run.wait_for_completion(show_output=True)
```

</details>
""", "hint"),
    ("markdown", r"""
### 演習 2: HTTP で k を変えて実行を頼む

10 で公開したパイプライン `published` のエンドポイントに、**k = 7** (`n_neighbors` が 7) で実行を頼むリクエストを送ってください。
実験の名前は `mnist-pipeline-rest` にします。始まった Run を `PipelineRun(...)` で取り出し、終わるまで待ってから `my_rest_run` に入れます。

チェックのセルは、その Run が公開したパイプラインの Run で、パラメーター `n_neighbors` が 7 だったかを調べます。
"""),
    ("code", r"""
# 演習 2: None を書き換えてください
my_rest_run = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check_pipeline_run

check_pipeline_run(my_rest_run, experiment="mnist-pipeline-rest", pipeline_id=published.id,
                   parameters={"n_neighbors": 7},
                   hint="10 の requests.post のセルをまねします。ParameterAssignments の値を変えます。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

10 と同じく、`published.endpoint` に、認証ヘッダー (`aml_pipeline_header`) と
`{"ExperimentName": ..., "ParameterAssignments": {...}}` の本文を付けて POST します。
答えの JSON の `Id` が Run の ID です。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
reply = requests.post(published.endpoint, headers=aml_pipeline_header,
                      json={"ExperimentName": "mnist-pipeline-rest", "ParameterAssignments": {...}})
my_rest_run = PipelineRun(Experiment(ws, "mnist-pipeline-rest"), reply.json()[...])
my_rest_run.wait_for_completion(show_output=True)
```

</details>
""", "hint"),
    ("markdown", r"""
## 演習の解答例

自分で解いてから見ましょう。
""", "solution"),
    ("code", r"""
tree_model = PipelineData("tree_model", datastore=ds)
my_step = PythonScriptStep(name="train_tree", script_name="train.py",
                           source_directory="pipeline/train_tree",
                           arguments=["--data", prepared, "--output", tree_model],
                           inputs=[prepared], outputs=[tree_model], compute_target=cluster)
my_run = exp.submit(Pipeline(ws, steps=[my_step]))
my_run.wait_for_completion(show_output=True)
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check_pipeline_step

check_pipeline_step(my_run, step="train_tree", reads=["prepared"], writes=["tree_model"],
                    metrics={"accuracy": ...}, reused=["prepare"], hint="")
""", ("solution", "check", "nbval-check-output")),
    ("code", r"""
reply = requests.post(published.endpoint, headers=aml_pipeline_header,
                      json={"ExperimentName": "mnist-pipeline-rest",
                            "ParameterAssignments": {"n_neighbors": 7}})
my_rest_run = PipelineRun(Experiment(ws, "mnist-pipeline-rest"), reply.json()["Id"])
my_rest_run.wait_for_completion(show_output=True)
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check_pipeline_run

check_pipeline_run(my_rest_run, experiment="mnist-pipeline-rest", pipeline_id=published.id,
                   parameters={"n_neighbors": 7}, hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
## 12. 後片付け

このノートブックで作ったスケジュールを止め、エンドポイントのサーバーを止めます (サーバーはノートブックを閉じても動き続けるので)。
公開したパイプラインと登録したデータセットは、ワークスペースに残ります。サーバーは、次に `published.endpoint` を読んだときにまた起動します。
"""),
    ("code", r"""
for leftover in Schedule.list(ws):
    leftover.disable()
print("動いているスケジュール:", len(Schedule.list(ws)))
!{sys.executable} -m amlhandson.cli pipelines endpoint stop
"""),
    ("markdown", r"""
## まとめ

- 既定のデータストア (`ws.get_default_datastore()`) に MNIST をアップロードし、`Dataset.File.from_files((ds, "mnist/*.gz"))` と
  `register` でデータセットとして登録しました。中身が同じなら、登録し直してもバージョンは増えません。
- `PythonScriptStep` を 4 つ、`PipelineData` でつなぎ、`PipelineParameter` で k を変えられるパイプラインを作りました。
  最後のステップだけを `Pipeline` に渡せば、必要なステップはたどって入ります。`validate()` で問題を先に見つけられます。
- 依存関係のない `train_knn` と `train_logreg` は、クラスターの 2 つのワーカーで同時に動きました。
- 何も変えずに実行し直すと、すべてのステップが再利用され、すぐに終わりました (`regenerate_outputs=True` なら全部実行し直します)。スクリプトを 1 つ変えると、そのステップと、
  その出力を読むステップだけが実行し直されました。理由は `print_reuse_report()` で確かめられます。ステップごとにフォルダーを分けるのがコツです。
- `publish_pipeline` で公開し、エンドポイントに認証ヘッダー付きの HTTP の POST で実行を頼めました。ヘッダーがないと 401 が返ります。
- `Schedule.create` と `ScheduleRecurrence` でスケジュールを作り、スケジューラー (`amlhandson schedules run`) が実行を始めました。

## 次へ

コース全体の地図は [README.md](README.md) を見てください。パイプライン、データストア、データセットの詳しい説明は
リポジトリの `docs/pipelines.md` にあります。
"""),
]
