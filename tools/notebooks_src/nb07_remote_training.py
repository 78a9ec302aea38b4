"""Source of notebooks/07-remote-training.ipynb (see tools/build_notebooks.py)."""

NAME = "07-remote-training"

CELLS = [
    ("markdown", r"""
# 07 クラスターで学習する: train.py、並列の Run、HyperDrive

05 では、kNN の k を 7 通り、ノートブックの中で **1 つずつ順番に** 試しました。ハンズオンの資料は、実験の節を
「パラメーターの値をたくさん試すのに時間がかかりすぎるなら、リモートのクラスターでモデルを実行してみましょう」という趣旨の一文で締めくくっています。
このノートブックでは、その一文を実際にやってみます。

学習のコードを **スクリプト** (`train.py`) にして **コンピューティング先** (クラスター) に送り (submit)、いくつもの試行を **同時に** 実行します。
さらに、ハイパーパラメーターの探索を自動で行う **HyperDrive** を使い、見込みのない試行を途中で止めるところまで体験します。

## 学習の目的

- 学習をクラスターで実行する理由 (待ち時間、並列、ノートブックと学習の分離) を説明できる
- `AmlCompute` のコンピューティング先を「なければ作る」書き方で用意できる
- `Run.get_context()` を使って、メトリックとモデルを記録する学習スクリプト `train.py` を書ける
- `ScriptRunConfig` と `exp.submit` でスクリプトを実行し、`RunDetails` と `wait_for_completion(show_output=True)` で実行中の様子を見られる
- 複数の Run を同時に submit して、k の探索を並列に行える
- `HyperDriveConfig` で、グリッド探索 (k) と、早期終了ポリシー付きのランダム探索 (ロジスティック回帰の `C`) を実行し、止められた試行を確かめられる
- 探索の最良の Run を選び、そのモデルを登録できる
- 本物の複数マシンのクラスターでは何が変わるかを説明できる

## 所要時間

約 50 分。時間のかかるセルは次のとおりです (2 コアのパソコン、MNIST のフルセットでの実測。ほかの重い処理が同時に動いていると、2〜3 倍かかります)。

- 「5. 1 つの Run を submit して見守る」: 約 5〜15 秒 (最初の submit でクラスターが起動するのを含みます)
- 「6. k の探索を並列の Run で」: 約 5〜15 秒
- 「7. HyperDrive: k のグリッド探索」: 約 5〜10 秒
- 「8. HyperDrive: C のランダム探索と早期終了」: 約 10〜20 秒
- 演習 1 のスクリプトの実行: 数秒

計算の時間は、合わせて 30 秒から 1 分ほどです。
"""),
    ("markdown", r"""
## 1. なぜクラスターで学習するのか

05 のやり方 (ノートブックの中で学習する) には、次の弱点があります。

- **待ち時間**: 学習が終わるまで、ノートブックは次のセルを実行できません。k を 7 通り試せば、7 回分待ちます。
- **並列にできない**: 1 つずつ順番に試すので、ほかの CPU コアや計算機が空いていても使えません。
- **ノートブックと学習がからみ合う**: カーネルを再起動すると、学習も記録も途中で消えます。どのコードで学習したのかも、あとからわかりにくくなります。

そこで v1 では、学習のコードを **スクリプト** (`train.py`) として書き、**コンピューティング先** に **submit** (投入) しました。

```mermaid
flowchart LR
    NB["ノートブック<br/>exp.submit(ScriptRunConfig)"] -->|"スナップショット<br/>(train.py のフォルダー)"| CT["コンピューティング先<br/>(クラスターのワーカー)"]
    CT -->|"python train.py --k 3"| S1["試行 1"]
    CT --> S2["試行 2"]
    S1 -->|"Run.get_context().log(...)<br/>ログ・outputs/"| WS[("ワークスペース<br/>Run の記録")]
    S2 --> WS
    WS -->|"RunDetails / get_metrics"| NB
```

- submit すると、スクリプトのフォルダーの **スナップショット** (コピー) がとられ、ワーカーで `python train.py ...` が実行されます。
- スクリプトの中の `Run.get_context()` は、submit でできた Run を返します。そこに `log` したメトリック、`print` の出力、`outputs/` に保存したファイルは、
  ワークスペースの Run の記録に届きます。
- ノートブックはすぐに次のセルへ進めます。試行はワーカーの数だけ同時に動きます。

| | 2019 年 (Azure) | このコース |
|---|---|---|
| `AmlCompute` (コンピューティング クラスター) | Azure の仮想マシン (VM) の集まり。作るのに数分、使った時間だけ料金 | このパソコンの中の **Dask** のクラスター (`LocalCluster`)。ワーカーはこのパソコンのプロセスで、CPU コアの数まで同時に動きます |
| スクリプトを動かす環境 | 毎回 Docker イメージを作る (初回は 10 分以上) | このパソコンの Python をそのまま使う (足りないパッケージがあれば、始める前にそう知らせます) |
| 本物の複数マシンのクラスター | Azure の VM | Dask のクラスターを `DaskCompute` でつなぐ (10 で説明します) |

(Dask は、Python の計算を多くのプロセスや計算機に分けて実行するための、広く使われているライブラリです。)
"""),
    ("markdown", r"""
## 2. 準備

ワークスペースを開き、このノートブック用の実験 `remote-training` を作ります。スクリプトを置くフォルダー `remote-training` も作ります
(このフォルダーの中身が、submit のたびにスナップショットになります)。

MNIST はスクリプトの中で読みます。データはスナップショットに入れず、**データの場所を引数で渡す** のが v1 のやり方でした
(データが大きいと、submit のたびに送ることになるからです)。ここでは、02 でそろえた MNIST のフォルダー (`mnist.data_dir()`) を渡します。
"""),
    ("code", r"""
import os
import time

import numpy as np

from amlhandson import Experiment, Workspace
from amlhandson.datasets import mnist

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="remote-training")

script_folder = "remote-training"
os.makedirs(script_folder, exist_ok=True)
data_folder = str(mnist.data_dir())

X_train, y_train, X_test, y_test = mnist.load()
print(f"訓練画像 {len(X_train):,} 枚 / テスト画像 {len(X_test):,} 枚")
"""),
    ("markdown", r"""
## 3. コンピューティング先を作る

v1 では、次の「**あれば使い、なければ作る**」書き方が定番でした。`ComputeTarget(workspace=ws, name=...)` は、その名前のコンピューティング先が
なければ `ComputeTargetException` を出すので、そのときだけ `ComputeTarget.create` で作ります。何度実行しても大丈夫です。

- `vm_size` は Azure の VM の大きさでした。このコースでは記録されるだけです。
- `max_nodes` はノード (ワーカー) の最大数です。このパソコンの CPU コアの数 (2 コアのパソコンなら 2) にします。
- クラスターは作った時点ではまだ起動せず、最初に Run を submit したときに起動します (Azure でも、ノードは必要になってから用意されました)。
"""),
    ("code", r"""
from amlhandson.core.compute import AmlCompute, ComputeTarget, ComputeTargetException

cluster_name = "cpucluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print(f"既存のコンピューティング先 {cluster_name!r} を使います。")
except ComputeTargetException:
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2,
                                                   idle_seconds_before_scaledown=600)
    compute_target = ComputeTarget.create(ws, cluster_name, config)

compute_target.wait_for_completion(show_output=True)
"""),
    ("code", r"""
print(type(compute_target).__name__, compute_target.name, compute_target.provisioning_state)
print("コンピューティング先:", sorted(ws.compute_targets))
""", "nbval-check-output"),
    ("markdown", r"""
## 4. 学習スクリプト train.py を書く

05 の kNN の学習を、スクリプトにします。ノートブックと違うのは次の 3 点です。

1. **設定は引数で受け取る** (`argparse`)。同じスクリプトを、`--k 1`、`--k 3` … と引数だけ変えて何度も実行できます。
2. **Run は `Run.get_context()` で受け取る**。submit されたスクリプトの中では、submit でできた Run が返ります。
   (submit せずに `python train.py` で直接実行したときは、その場で新しい Run が作られます。)
3. **結果は Run に記録する**。`print` はログ (`azureml-logs/70_driver_log.txt`) に残り、`log` したメトリックはワークスペースに届きます。

`%%writefile` は、セルの中身をファイルに保存する Jupyter のマジックです (06 でも使いました)。
"""),
    ("code", r"""
%%writefile remote-training/train.py
import argparse

import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from amlhandson.core import Run
from amlhandson.datasets import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str, help="MNIST のフォルダー")
parser.add_argument("--k", type=int, default=3, help="kNN の k (近所の何枚で多数決するか)")
parser.add_argument("--eval-size", type=int, default=1000, help="評価に使うテスト画像の枚数")
args = parser.parse_args()

X_train, y_train, X_test, y_test = mnist.load(args.data_folder)
rng = np.random.default_rng(0)  # 05 と同じく、テスト画像からランダムに選んだ 1,000 枚で評価する
index = rng.choice(len(X_test), size=min(args.eval_size, len(X_test)), replace=False)

run = Run.get_context()
print(f"k={args.k}: 訓練画像 {len(X_train):,} 枚、評価画像 {len(index):,} 枚")
clf = KNeighborsClassifier(n_neighbors=args.k).fit(X_train, y_train)
accuracy = float(np.mean(clf.predict(X_test[index]) == y_test[index]))

run.log("k", args.k)
run.log("accuracy", accuracy)
print(f"accuracy={accuracy:.4f}")
"""),
    ("markdown", r"""
## 5. 1 つの Run を submit して見守る

`ScriptRunConfig` に「どのフォルダーの、どのスクリプトを、どの引数で、どのコンピューティング先で」実行するかをまとめ、
`exp.submit` に渡します。`submit` は **すぐに** 戻ってきます (スクリプトの終わりは待ちません)。

`RunDetails(run).show()` のウィジェットは、Run の状態 (`Queued` → `Preparing` → `Running` → `Completed`)、スクリプトの出力 (**Log** のタブ)、
メトリックを、Run が終わるまで数秒ごとに更新します。
"""),
    ("code", r"""
from amlhandson.core import ScriptRunConfig
from amlhandson.widgets import RunDetails

src = ScriptRunConfig(source_directory=script_folder, script="train.py",
                      arguments=["--data-folder", data_folder, "--k", 3],
                      compute_target=compute_target)
run = exp.submit(src)
print("submit の直後の状態:", run.get_status())
RunDetails(run).show()
"""),
    ("markdown", r"""
`run.wait_for_completion(show_output=True)` は、Run が終わるまで待ちながら、スクリプトの出力をここに流します (v1 と同じです)。
最初の submit ではクラスターの起動も待つので、少し時間がかかります。
"""),
    ("code", r"""
details = run.wait_for_completion(show_output=True)
"""),
    ("code", r"""
print("状態:", run.get_status())
print("メトリック:", sorted(run.get_metrics()))
print("k =", run.get_metrics()["k"])
""", "nbval-check-output"),
    ("markdown", r"""
Run のファイルには、スクリプトの出力 (`azureml-logs/70_driver_log.txt`) が入っています。スナップショットも Run と一緒に保存されているので、
あとで `train.py` を書き換えても、この Run が **どのコードで** 実行されたかがわかります (`run.restore_snapshot()` で取り出せます)。
"""),
    ("code", r"""
print(run.get_file_names())
print("スクリプト:", run.get_details()["properties"]["amlhandson.script"])
""", "nbval-check-output"),
    ("markdown", r"""
## 6. k の探索を並列の Run で

05 と同じ k = 1, 3, 5, 7 を、今度は **4 つの Run として一度に submit** します。クラスターのワーカーは 2 つなので、2 つずつ同時に実行されます
(残りは `Queued` で順番を待ちます)。submit はすぐに戻るので、4 回の submit は一瞬で終わります。
"""),
    ("code", r"""
start = time.perf_counter()
k_runs = []
for k in [1, 3, 5, 7]:
    src_k = ScriptRunConfig(source_directory=script_folder, script="train.py",
                            arguments=["--data-folder", data_folder, "--k", k],
                            compute_target=compute_target)
    k_runs.append(exp.submit(src_k, tags={"search": "parallel-k"}))
print(f"4 つの Run を submit しました ({time.perf_counter() - start:.2f} 秒)")
print("いまの状態:", [r.get_status() for r in k_runs])
"""),
    ("code", r"""
for r in k_runs:
    r.wait_for_completion()
elapsed = time.perf_counter() - start
for r in k_runs:
    metrics = r.get_metrics()
    print(f"k={metrics['k']}: accuracy={metrics['accuracy']:.4f}  ({r.get_status()})")
print(f"4 つの Run が終わるまで {elapsed:.1f} 秒")
"""),
    ("markdown", r"""
それぞれの Run の実行時間を足すと、全体の時間よりも長くなっているはずです。その差が、**同時に** 実行したことで短くなった時間です。
"""),
    ("code", r"""
total = sum(r.record.end_time - r.record.start_time for r in k_runs)
print(f"各 Run の実行時間の合計: {total:.1f} 秒 / 全体: {elapsed:.1f} 秒")
"""),
    ("markdown", r"""
## 7. HyperDrive: k のグリッド探索

6 では、k の値ごとに自分で `ScriptRunConfig` を作って submit しました。**HyperDrive** (ハイパーパラメーターの調整) は、これを自動で行います。

- **サンプリング** (どの値を試すか): `GridParameterSampling` は、`choice(...)` に並べた値を **すべて** 試します (グリッド探索)。
  パラメーターの名前は、スクリプトの引数の名前 (`"--k"`) です。
- **主メトリック** (何で良し悪しを決めるか): スクリプトが `log` するメトリックの名前 (`"accuracy"`) と、大きいほど良いか (`MAXIMIZE`) 小さいほど良いか。
- `max_total_runs` (試行の最大数) と `max_concurrent_runs` (同時に動かす試行の数)。

HyperDrive の Run は **親 Run** になり、試行はその **子 Run** (`HD_..._0`, `HD_..._1`, …) になります (05 の親 Run と子 Run と同じ形です)。
ウィジェットの **Trials** のタブに、試行の表 (パラメーターと主メトリック、最良の試行に ★) と、主メトリックのグラフが表示されます。
"""),
    ("code", r"""
from amlhandson.train.hyperdrive import (
    BanditPolicy,
    GridParameterSampling,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    choice,
    loguniform,
)

src_grid = ScriptRunConfig(source_directory=script_folder, script="train.py",
                           arguments=["--data-folder", data_folder],
                           compute_target=compute_target)
grid_config = HyperDriveConfig(run_config=src_grid,
                               hyperparameter_sampling=GridParameterSampling({"--k": choice(1, 3, 5, 7)}),
                               primary_metric_name="accuracy",
                               primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                               max_total_runs=4, max_concurrent_runs=2)
hd_knn = exp.submit(grid_config)
RunDetails(hd_knn).show()
"""),
    ("code", r"""
hd_knn_details = hd_knn.wait_for_completion(show_output=True)
"""),
    ("markdown", r"""
`get_best_run_by_primary_metric()` は、主メトリックがいちばん良い試行の Run を返します。どの値で試したかは `get_hyperparameters()` でわかります。
"""),
    ("code", r"""
best_knn = hd_knn.get_best_run_by_primary_metric()
print("試行の数:", len(list(hd_knn.get_children())))
print("k の値:", sorted(p["--k"] for p in hd_knn.get_hyperparameters().values()))
print("最良の試行の k:", best_knn.get_metrics()["k"])
""", "nbval-ignore-output"),
    ("code", r"""
print(hd_knn.get_status(), len(hd_knn.get_hyperparameters()), best_knn.get_status())
""", "nbval-check-output"),
    ("markdown", r"""
## 8. HyperDrive: C のランダム探索と早期終了

次は 04 のロジスティック回帰です。`C` は **正則化** の強さを決めるハイパーパラメーターで、小さいほど「係数を大きくしすぎない」ように
強くしばります。小さすぎると、正解率が上がりきりません。良い `C` は 0.0001 から 10 くらいまでの広い範囲のどこかにありそうですが、
どこかはわかりません。こういうときは **ランダム探索** が向いています。

- `loguniform(-9, 2)` は、$e^{-9} \approx 0.0001$ から $e^{2} \approx 7.4$ までの値を、**桁ごとに同じくらいの確率で** 選びます
  (0.001 台も 1 台も同じくらい試されます)。
- `RandomParameterSampling(..., properties={"seed": 7})` の `seed` は、選ぶ値を毎回同じにするための指定です (同じ値を再現したいときに使います)。

### 途中の記録と早期終了ポリシー

見込みのない試行は、最後まで待たずに止めたほうが時間の節約になります。そのために、学習スクリプトは **途中の正解率を何度も記録** します。
ロジスティック回帰を 5 反復ずつ 8 回に分けて学習し (`warm_start=True` で、前回の続きから学習します)、そのたびに `accuracy` を `log` します。

**BanditPolicy** は、試行が主メトリックを記録するたびに、ほかの試行の同じ回の値と比べます。`slack_factor=0.1` なら、
その回のいちばん良い値を 1.1 で割った値より悪い試行を止めます (最大化のとき)。`delay_evaluation=2` は「最初の 2 回は比べない」、
`evaluation_interval=1` は「毎回比べる」という意味です。止められた試行は `Canceled` になり、そのプロセスは本当に終了します。
"""),
    ("code", r"""
%%writefile remote-training/train_logreg.py
import argparse
import os
import warnings

import joblib
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from amlhandson.core import Run
from amlhandson.datasets import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str, help="MNIST のフォルダー")
parser.add_argument("--C", type=float, default=1.0, help="正則化の強さの逆数")
parser.add_argument("--train-size", type=int, default=10000, help="学習に使う訓練画像の枚数")
parser.add_argument("--rounds", type=int, default=8, help="何回に分けて学習するか")
args = parser.parse_args()

X_train, y_train, X_test, y_test = mnist.load(args.data_folder)
n = min(args.train_size, len(X_train))

run = Run.get_context()
run.log("C", args.C)
clf = LogisticRegression(C=args.C, max_iter=5, warm_start=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 5 反復ずつなので、毎回「収束していない」と出るのを止める
    for i in range(args.rounds):
        clf.fit(X_train[:n], y_train[:n])
        accuracy = float(np.mean(clf.predict(X_test) == y_test))
        run.log("accuracy", accuracy)
        print(f"round {i + 1}: accuracy={accuracy:.4f}")

os.makedirs("outputs", exist_ok=True)
joblib.dump(clf, "outputs/model.pkl")
"""),
    ("code", r"""
src_logreg = ScriptRunConfig(source_directory=script_folder, script="train_logreg.py",
                             arguments=["--data-folder", data_folder],
                             compute_target=compute_target)
random_config = HyperDriveConfig(
    run_config=src_logreg,
    hyperparameter_sampling=RandomParameterSampling({"--C": loguniform(-9, 2)}, properties={"seed": 7}),
    policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=2),
    primary_metric_name="accuracy",
    primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
    max_total_runs=8, max_concurrent_runs=2)
hd_logreg = exp.submit(random_config)
RunDetails(hd_logreg).show()
"""),
    ("markdown", r"""
ウィジェットの **Trials** のタブで、試行が増えていく様子を見ましょう。`accuracy per trial` のグラフには試行ごとの正解率の伸び方が、
`accuracy vs C` のグラフには `C` と正解率の関係が描かれます。`C` が小さすぎる試行は途中で `Canceled` になり、表の **Note** の列に
止められた理由が表示されます。
"""),
    ("code", r"""
hd_logreg_details = hd_logreg.wait_for_completion(show_output=True)
"""),
    ("code", r"""
statuses = [child.get_status() for child in hd_logreg.get_children()]
canceled = [child for child in hd_logreg.get_children() if child.get_status() == "Canceled"]
print("試行:", len(statuses), "/ Completed:", statuses.count("Completed"), "/ Canceled:", len(canceled))
for child in canceled:
    values = child.get_metrics().get("accuracy", [])
    rounds = len(values) if isinstance(values, list) else 1
    print(f"  {child.id[-2:]}: C={child.get_metrics()['C']:.5f}, {rounds} 回で停止: {child.record.error['message'][:80]}")
""", "nbval-ignore-output"),
    ("markdown", r"""
止められた試行は、8 回の学習のうち途中までしか記録していません。その分、クラスターのワーカーが早く空き、次の試行が早く始まりました。
ポリシーは、そのときまでに同じ回の値を記録した試行とだけ比べます。比べる相手がまだいない最初の試行は止められません。
(ここでは `seed` で選ぶ値を固定し、`slack_factor` を、`C` が極端に小さい試行だけが止められる大きさにしています。
`slack_factor` を小さくすると、もっと多くの試行が止められますが、どれが止められるかは、試行が終わる順番によって変わるようになります。)

## 9. 最良のモデルを選んで登録する

探索の結果から最良の試行を選び、その試行が `outputs/model.pkl` に保存したモデルを **登録** します (06 と同じ `register_model` です)。
タグに `C` の値を残しておくと、あとからどの設定のモデルかがわかります。
"""),
    ("code", r"""
best_run = hd_logreg.get_best_run_by_primary_metric()
best_metrics = best_run.get_metrics()
best_C = best_metrics["C"]
print(f"最良の試行: C={best_C:.5f}, accuracy={best_metrics['accuracy'][-1]:.4f}")
print("ファイル:", [name for name in best_run.get_file_names() if name.startswith("outputs/")])

model = best_run.register_model(model_name="mnist-logreg-hyperdrive", model_path="outputs/model.pkl",
                                tags={"C": f"{best_C:.5g}", "search": "hyperdrive"})
print("登録したモデル:", model.name, "version", model.version)
""", "nbval-ignore-output"),
    ("code", r"""
print(model.name, model.tags["search"], best_run.get_status(), best_run.parent.id == hd_logreg.id)
""", "nbval-check-output"),
    ("markdown", r"""
`%aml_runs` で実験の Run を表にすると、HyperDrive の親 Run の下に試行が並び、`Parameters` の列に試したパラメーターが表示されます。
"""),
    ("code", r"""
%load_ext amlhandson
%aml_runs remote-training --top 3
"""),
    ("markdown", r"""
## 10. 本物の複数マシンのクラスターでは何が変わるか

このノートブックの `AmlCompute` は、このパソコンの中の Dask のクラスターでした。Dask は、複数の計算機にまたがるクラスターでも同じように動きます。
コードで変わるのは、**コンピューティング先を作るセルだけ** です。

```python
from amlhandson.core.compute import ComputeTarget, DaskCompute

attach_config = DaskCompute.attach_configuration(scheduler_address="tcp://192.168.0.10:8786")
compute_target = ComputeTarget.attach(ws, "dask-cluster", attach_config)
```

(v1 でも、すでにある計算機をつなぐときは `attach_configuration` と `ComputeTarget.attach` を使いました。)
クラスターの側では、1 台で `dask scheduler` を、ほかの計算機で `dask worker tcp://192.168.0.10:8786 --nthreads 1` を起動しておきます。
手順は `docs/compute.md` にあります。ほかに変わることは次のとおりです。

| | このパソコンのクラスター | 複数マシンのクラスター |
|---|---|---|
| データ | ノートブックと同じフォルダーを読める | **どのワーカーからも読める場所** に置き、その場所を引数で渡す (共有フォルダーなど)。ワーカーごとに `amlhandson data mnist` で用意してもよい |
| パッケージ | ノートブックと同じ Python | **すべてのワーカー** に同じパッケージ (scikit-learn、amlhandson など) を入れておく。足りないと、スクリプトを始める前にエラーで知らせます |
| 記録 | ワーカーのプロセスからノートブックへ | ワーカーはワークスペースのファイルを開けないので、メトリック・ログ・`outputs/` は Dask の接続を通ってノートブックに届き、ノートブックがワークスペースに書きます |
| ワーカーが止まったとき | — | その試行は `Failed` になり、それまでに届いたメトリックは残ります (最初からやり直して同じ Run に記録し直すことはしません) |
| 同時に動く試行 | CPU コアの数まで | ワーカーの数まで |

一方、2019 年の Azure と違って、**カーネルを止めると HyperDrive の探索も止まります** (探索を進めているのはこのノートブックのプロセスだからです)。
"""),
    ("markdown", r"""
## 演習

演習のセルを書き換えて実行し、すぐ下のチェックのセルを実行します。詰まったらヒントを 1 つずつ開きましょう。
解答例は、この節の最後の「演習の解答例」にあります。

### 演習 1: 学習の進み具合を記録する train.py を書く

確率的勾配降下法 (SGD) で学習する分類器 `SGDClassifier` のスクリプト `remote-training/train_sgd.py` を完成させてください。
`partial_fit` は、訓練データを 1 回 (1 エポック) 学習するメソッドです。

1. `...` を書き換えて、submit された Run を受け取る
2. 引数の `--alpha` の値を、メトリック `alpha` として記録する
3. エポックごとに、テストの正解率をメトリック `accuracy` として記録する (エポックの数だけ記録されます)
4. 学習したモデルを `outputs/model.pkl` に保存する

そのあと次のセルで、このスクリプトを `--alpha 0.0001` と `--data-folder data_folder` の引数でクラスターに submit し、終わるまで待ってから
Run を `my_run` に入れてください。チェックのセルは、Run の状態、メトリック、ファイルを確かめます。
"""),
    ("code", r"""
%%writefile remote-training/train_sgd.py
# 演習 1: ... を書き換えてください
import argparse
import os

import joblib
import numpy as np
from sklearn.linear_model import SGDClassifier

from amlhandson.core import Run
from amlhandson.datasets import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str)
parser.add_argument("--alpha", type=float, default=0.0001)
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

X_train, y_train, X_test, y_test = mnist.load(args.data_folder)
n = min(10000, len(X_train))

run = ...                          # 1. submit された Run を受け取る
...                                # 2. alpha を記録する
clf = SGDClassifier(alpha=args.alpha, random_state=0)
for epoch in range(args.epochs):
    clf.partial_fit(X_train[:n], y_train[:n], classes=np.arange(10))
    accuracy = float(np.mean(clf.predict(X_test) == y_test))
    ...                            # 3. accuracy を記録する

os.makedirs("outputs", exist_ok=True)
...                                # 4. モデルを outputs/model.pkl に保存する
""", "exercise"),
    ("code", r"""
# 演習 1 (続き): None を書き換えて、train_sgd.py を submit して待ち、Run を my_run に入れてください
my_run = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check_script_run

check_script_run(my_run, script="train_sgd.py", experiment="remote-training",
                 metrics={"alpha": 0.0001, "accuracy": lambda v: isinstance(v, list) and len(v) == 5},
                 files=["outputs/model.pkl"],
                 hint="train_logreg.py の Run.get_context()、run.log、joblib.dump の行を見返しましょう。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

8 の `train_logreg.py` と同じ形です。`Run.get_context()` で Run を受け取り、1 回だけの値は `run.log(名前, 値)` で、
エポックごとの値はループの中で `run.log` を呼んで記録します (同じ名前で何度も記録すると、リストになります)。
モデルの保存は `joblib.dump(モデル, ファイル名)` です。submit は 5 の `ScriptRunConfig` と `exp.submit` のセルと同じ形です。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
# train_sgd.py の中
run = Run.get_context()
run.log("alpha", ...)
```

```python
# 次のセル
src_sgd = ScriptRunConfig(source_directory=script_folder, script="train_sgd.py",
                          arguments=["--data-folder", data_folder, "--alpha", ...],
                          compute_target=compute_target)
my_run = exp.submit(...)
my_run.wait_for_completion()
```

</details>
""", "hint"),
    ("markdown", r"""
### 演習 2: HyperDriveConfig を書く

演習 1 の `train_sgd.py` の `--alpha` (正則化の強さ) を、HyperDrive で探す設定を `my_hd_config` に入れてください。

- ランダム探索で、`--alpha` を `loguniform(-12, -4)` から選ぶ
- 早期終了ポリシーは `BanditPolicy` (`evaluation_interval=1`、`slack_factor=0.1`、`delay_evaluation=1`)
- 主メトリックは `accuracy` を最大化する
- 試行は最大 6 つ、同時に 2 つまで

submit はしなくてかまいません。チェックのセルは、設定の中身を確かめます (時間があれば、自分で submit して結果を見てみましょう)。
"""),
    ("code", r"""
# 演習 2: None を書き換えてください
my_hd_config = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check_hyperdrive_config

check_hyperdrive_config(my_hd_config, sampling="random", parameters={"--alpha": "loguniform"},
                        policy="Bandit", primary_metric="accuracy", goal="maximize",
                        max_total_runs=6, max_concurrent_runs=2, script="train_sgd.py",
                        hint="8 の random_config のセルが同じ形です。スクリプトと探す引数を変えます。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

8 の `random_config` と同じ部品を使います: `ScriptRunConfig` (今度は `train_sgd.py`)、`RandomParameterSampling`、`BanditPolicy`、
`HyperDriveConfig`。パラメーターの名前は、スクリプトの引数の名前 (`"--alpha"`) です。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
src_sgd = ScriptRunConfig(source_directory=script_folder, script="train_sgd.py",
                          arguments=["--data-folder", data_folder], compute_target=compute_target)
my_hd_config = HyperDriveConfig(
    run_config=src_sgd,
    hyperparameter_sampling=RandomParameterSampling({...: loguniform(...)}),
    policy=BanditPolicy(...),
    ...)
```

</details>
""", "hint"),
    ("markdown", r"""
### 演習 3: 止められた試行

8 の C の探索で、早期終了ポリシーに止められた (`Canceled` になった) 試行はいくつでしたか。**記録から** 数えて `answer_3` に入れてください
(画面に表示された数を書き写すのではなく、`hd_logreg.get_children()` と `get_status()` を使ってコードで数えます)。
"""),
    ("code", r"""
# 演習 3: None を書き換えてください
answer_3 = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_3, sum(child.get_status() == "Canceled" for child in hd_logreg.get_children()),
      hint="子 Run (試行) を 1 つずつ見て、状態が Canceled のものを数えます。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

`hd_logreg.get_children()` は試行の Run を 1 つずつ返します。それぞれの `get_status()` が `"Canceled"` かどうかを調べて数えます。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
answer_3 = len([child for child in hd_logreg.get_children() if ...])
```

</details>
""", "hint"),
    ("markdown", r"""
## 演習の解答例

自分で解いてから見ましょう。
""", "solution"),
    ("code", r"""
%%writefile remote-training/train_sgd.py
import argparse
import os

import joblib
import numpy as np
from sklearn.linear_model import SGDClassifier

from amlhandson.core import Run
from amlhandson.datasets import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str)
parser.add_argument("--alpha", type=float, default=0.0001)
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

X_train, y_train, X_test, y_test = mnist.load(args.data_folder)
n = min(10000, len(X_train))

run = Run.get_context()
run.log("alpha", args.alpha)
clf = SGDClassifier(alpha=args.alpha, random_state=0)
for epoch in range(args.epochs):
    clf.partial_fit(X_train[:n], y_train[:n], classes=np.arange(10))
    accuracy = float(np.mean(clf.predict(X_test) == y_test))
    run.log("accuracy", accuracy)

os.makedirs("outputs", exist_ok=True)
joblib.dump(clf, "outputs/model.pkl")
""", "solution"),
    ("code", r"""
src_sgd = ScriptRunConfig(source_directory=script_folder, script="train_sgd.py",
                          arguments=["--data-folder", data_folder, "--alpha", 0.0001],
                          compute_target=compute_target)
my_run = exp.submit(src_sgd)
my_run.wait_for_completion()
print(my_run.get_status(), my_run.get_metrics()["accuracy"])
""", ("solution", "nbval-ignore-output")),
    ("code", r"""
from amlhandson.exercises import check_script_run

check_script_run(my_run, script="train_sgd.py", experiment="remote-training",
                 metrics={"alpha": 0.0001, "accuracy": lambda v: isinstance(v, list) and len(v) == 5},
                 files=["outputs/model.pkl"], hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
`partial_fit` を呼ぶたびに正解率を記録したので、`accuracy` は 5 つの値のリストになりました。このように途中の値を記録しておけば、
演習 2 の BanditPolicy のような早期終了ポリシーで、見込みのない試行を途中で止められます。
""", "solution"),
    ("code", r"""
src_sgd = ScriptRunConfig(source_directory=script_folder, script="train_sgd.py",
                          arguments=["--data-folder", data_folder], compute_target=compute_target)
my_hd_config = HyperDriveConfig(
    run_config=src_sgd,
    hyperparameter_sampling=RandomParameterSampling({"--alpha": loguniform(-12, -4)}),
    policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=1),
    primary_metric_name="accuracy",
    primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
    max_total_runs=6, max_concurrent_runs=2)
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check_hyperdrive_config

check_hyperdrive_config(my_hd_config, sampling="random", parameters={"--alpha": "loguniform"},
                        policy="Bandit", primary_metric="accuracy", goal="maximize",
                        max_total_runs=6, max_concurrent_runs=2, script="train_sgd.py", hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
`exp.submit(my_hd_config)` で実行できます。6 つの試行で 1 分ほどかかります。
""", "solution"),
    ("code", r"""
answer_3 = len([child for child in hd_logreg.get_children() if child.get_status() == "Canceled"])
print(answer_3)
""", ("solution", "nbval-ignore-output")),
    ("code", r"""
from amlhandson.exercises import check

check(answer_3, sum(child.get_status() == "Canceled" for child in hd_logreg.get_children()), hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
## 後片付け

コンピューティング先を削除すると、Dask のクラスター (ワーカーのプロセス) も止まります。使わないまま置いておいても、
`idle_seconds_before_scaledown` (ここでは 600 秒) のあいだ何も実行しなければワーカーは自動で止まり、カーネルを止めればクラスターも止まります。
2019 年の Azure では、ノードが動いている間は料金がかかったので、`min_nodes=0` にしておくことが大切でした。
"""),
    ("code", r"""
compute_target.delete()
print("コンピューティング先:", sorted(ws.compute_targets))
""", "nbval-check-output"),
    ("markdown", r"""
## まとめ

- 学習をクラスターで実行すると、ノートブックは待たずに次へ進め、試行を同時に実行できます。学習のコードはスクリプトとしてスナップショットに残ります。
- コンピューティング先は「`ComputeTarget(ws, name)` で探し、`ComputeTargetException` なら `ComputeTarget.create`」の書き方で用意しました。
  このコースの `AmlCompute` は、このパソコンの中の Dask のクラスターです。
- 学習スクリプトでは、設定を引数で受け取り、`Run.get_context()` の Run に `log` で記録し、モデルを `outputs/` に保存しました。
- `ScriptRunConfig` と `exp.submit` で実行し、`RunDetails` と `wait_for_completion(show_output=True)` で見守りました。
- 4 つの Run を同時に submit して、k の探索を並列に行いました。
- HyperDrive で、k をグリッド探索し、`C` をランダム探索しました。途中の正解率を記録したので、`BanditPolicy` が見込みのない試行を止めました。
- `get_best_run_by_primary_metric()` で最良の試行を選び、`register_model` でモデルを登録しました。
- 本物の複数マシンのクラスターでは、`DaskCompute` でつなぐセルと、データとパッケージの置き場所だけが変わります。

## 次へ

[08-pipelines.ipynb](08-pipelines.ipynb) で、データの準備・学習・比較をつなげたパイプラインを作り、同じ Dask のクラスターで実行します。
コース全体の地図は [README.md](README.md) を見てください。この実験の Run は、ターミナルで `amlhandson runs list -e remote-training` を実行していつでも見返せます。
HyperDrive の親 Run の試行は `amlhandson runs show HD_...` で一覧できます。
"""),
]
