"""Source of notebooks/05-experiments.ipynb (see tools/build_notebooks.py)."""

NAME = "05-experiments"

CELLS = [
    ("markdown", r"""
# 05 実験と実行 (Run) を記録して比べる

04 では、モデルの正解率をノートブックに表示しただけでした。設定を変えて何十回も試すと、
「あの 0.96 はどの設定だったっけ?」とすぐにわからなくなります。

そこで service では、試行の 1 回 1 回を **実行 (Run)** として記録し、同じ目的の Run を **実験 (Experiment)** にまとめます。
このノートブックでは、Run にメトリック (数値) や画像を記録する基本を学び、k 近傍法 (kNN) の k を変えながら試した結果を記録して、
いちばん良い k を記録から選びます。

## 学習の目的

- `Experiment` と `exp.start_logging()` で Run を始め、`log`, `log_list`, `log_image` で記録し、`complete()` で終えられる
- `run.get_metrics()` で記録した値を読み出せる
- 親 Run と子 Run (`run.child_run`) を使って、ハイパーパラメーターの探索をまとめて記録できる
- 記録したメトリックから最良の設定を選び、表とグラフで Run を比べられる
- `%%aml_run` マジックと `RunDetails` ウィジェットで、手軽に記録・確認できる

## 所要時間

約 25 分。時間のかかるセルは次の 2 つです (2 コアのパソコンでの目安)。

- 「4. k を変えて試す」のセル: 訓練データ 60,000 枚で 7 通りの k を試して約 20〜40 秒 (見本データやクイック モードでは数秒)
- 「6. マジックで記録する」のロジスティック回帰のセル: 約 5 秒
"""),
    ("markdown", r"""
## 1. 実行 (Run) と実験 (Experiment)

- **実行 (Run)**: モデルの学習やハイパーパラメーターの調整など、ある作業を 1 回行った記録です。
  その 1 回で記録したメトリック (正解率など)、画像、ファイル、状態 (実行中・完了・失敗)、開始と終了の時刻がまとまっています。
- **実験 (Experiment)**: 同じ目的の Run を集めた、名前付きのグループです。
  例えば「ロジスティック回帰の Run が 1 つ、kNN の Run が 1 つ」あれば、その 2 つを 1 つの実験の中で比べられます。

2019 年の Azure では、Run の記録は Azure 上のワークスペースに送られ、Azure portal の画面で見ました。
このコースでは、01 で作ったワークスペースのフォルダー (`~/.amlhandson/workspaces/docs-aml/docs-ws/`) に記録されます。
"""),
    ("markdown", r"""
## 2. 準備

データとワークスペースを用意します。`Workspace.from_config()` は 01 で作った `config.json` (なければリポジトリのいちばん上の
`config.json`) を見つけて、`docs-ws` を開きます。

実験は `Experiment(workspace, name)` で作ります。同じ名前の実験がすでにあれば、それを使います。
名前は 2019 年のハンズオンと同じ `my-first-experiment` にします。
"""),
    ("code", r"""
import os
import time

import matplotlib.pyplot as plt
import numpy as np

from amlhandson import Experiment, Workspace
from amlhandson.datasets import mnist

mnist.download("data", progress=False)
X_train, y_train, X_test, y_test = mnist.load("data")
AMLHANDSON_QUICK = os.environ.get("AMLHANDSON_QUICK") == "1"

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="my-first-experiment")
exp
"""),
    ("markdown", r"""
表の **Report Page** の列は、Azure では実験のページへのリンクでした。このコースでは、ターミナルで実験の Run の一覧を表示するコマンドを示しています。
"""),
    ("markdown", r"""
## 3. 最初の Run: 記録の基本

`exp.start_logging()` で Run を始めます。戻り値の `run` に、次のメソッドで記録していきます。

| メソッド | 記録するもの | 例 |
|---|---|---|
| `run.log(name, value)` | 1 つの値 (数値や文字列)。同じ名前で何度も記録すると、その全部が残ります | 正解率、学習率 |
| `run.log_list(name, values)` | 値のリスト | 各回の損失の列 |
| `run.log_image(name, plot=fig)` | matplotlib の図 (`path=` で画像ファイルも可) | 混同行列の図 |
| `run.complete()` | Run を「完了」にします | |

まず、ハンズオンと同じ値を記録してみましょう。
"""),
    ("code", r"""
run = exp.start_logging()
run.log("trial", 1)
run.log_list("my list", [1, 1, 2, 3, 5, 8, 13, 21, 34, 55])
"""),
    ("markdown", r"""
次に、図を記録します。記録したリストをグラフにして、`log_image` で Run に保存します。図は画像ファイル (PNG) として Run に付きます。
"""),
    ("code", r"""
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot([1, 1, 2, 3, 5, 8, 13, 21, 34, 55], marker="o")
ax.set_title("my list")
ax.set_xlabel("index")
run.log_image("my list chart", plot=fig)
plt.show()
"""),
    ("markdown", r"""
記録が終わったら `run.complete()` で Run を完了にします。`complete()` を呼ぶまで、Run の状態は `Running` (実行中) のままです。
"""),
    ("code", r"""
run.complete()
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
run.get_status()
"""),
    ("markdown", r"""
記録した値は `run.get_metrics()` で読み出せます。戻り値は「メトリック名 → 値」の辞書です。
"""),
    ("code", r"""
metrics = run.get_metrics()
metrics
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print("trial:", metrics["trial"])
print("my list:", metrics["my list"])
print("my list chart:", metrics["my list chart"])
"""),
    ("markdown", r"""
- `log` で 1 回だけ記録した `trial` は、値そのもの (`1`) で返ります。同じ名前で何回も `log` すると、リストで返ります。
- `log_list` で記録した `my list` は、リストで返ります。
- 画像の `my list chart` は、値の代わりに `aml://artifactId/ExperimentRun/dcid.<Run の ID>/<ファイル名>` という **参照** が返ります。
  Azure と同じ形です。画像そのものは Run のファイルとして保存されています。

Run のファイルの一覧と、Run の概要も見てみましょう。ファイルは、いまのところ `log_image` で記録した図だけです。
(`complete()` のとき、今のフォルダーの `outputs/` にファイルがあれば、それも Run にアップロードされ、一覧に `outputs/...` として現れます。
学習したモデルなどを Run と一緒に残すための決まりで、06 で使います。)

`run` をセルの最後に書くと、Azure と同じ形の表が表示されます。
Azure では **Details Page** が Azure portal のページへのリンクでした。このコースでは、ターミナルでその Run の詳細を見るコマンドが書かれています。
"""),
    ("code", r"""
print(run.get_file_names())
run
"""),
    ("markdown", r"""
## 4. k を変えて試す: k 近傍法 (kNN)

2019 年のハンズオンの後半では、**k 近傍法** (k-nearest neighbors, kNN) というモデルで、k の値を変えながら正解率を比べました。

- kNN は、予測したい画像に **いちばん似ている (画素の距離が近い) 訓練画像を k 枚** 探し、その k 枚のラベルの多数決で答えを決めます。
- k のように、学習で決まるのではなく人が決める設定を **ハイパーパラメーター** と呼びます。良い値は試してみないとわかりません。
- ハンズオンと同じく、k = 1, 3, 5, …, 13 の 7 通りを試します (`range(1, 15, 2)`)。多数決が同点になりにくいよう、奇数にしています。

kNN は「学習」はほぼ一瞬 (訓練画像を覚えるだけ) ですが、予測が重いモデルです。1 枚予測するたびに、訓練画像 60,000 枚すべてとの距離を計算するからです。
テスト画像 10,000 枚すべてを 7 回予測すると、このパソコンでは数分かかります。そこで、テスト画像から **ランダムに選んだ 1,000 枚** で比べます
(テスト画像の前半と後半では書いた人の集団が違うので、先頭から取らずにランダムに選びます)。
クイック モードでは、訓練 5,000 枚・テスト 500 枚に減らします。
"""),
    ("code", r"""
rng = np.random.default_rng(0)
n_train = min(5_000, len(X_train)) if AMLHANDSON_QUICK else len(X_train)
n_eval = min(500 if AMLHANDSON_QUICK else 1_000, len(X_test))
eval_index = rng.choice(len(X_test), size=n_eval, replace=False)

X_knn, y_knn = X_train[:n_train], y_train[:n_train]
X_eval, y_eval = X_test[eval_index], y_test[eval_index]
print(f"訓練画像 {n_train:,} 枚 / 評価に使うテスト画像 {n_eval:,} 枚")
"""),
    ("markdown", r"""
### 親 Run と子 Run

7 通りの試行を、ばらばらの Run にするのではなく、**親 Run** 1 つの下に **子 Run** を 7 つぶら下げて記録します。
「k の探索」という 1 回の作業の中に、k ごとの試行がある、という形です。

- `parent.child_run(name=...)` で子 Run を始めます。
- `with ... as child:` の形で書くと、ブロックを抜けたときに子 Run が自動で `complete()` されます (途中でエラーが起きたら「失敗」になります)。
- `parent.tag("model", "kNN")` は **タグ** です。Run に付ける「ラベル」のようなもので、あとから Run を探したり分類したりするのに使います。

次のセルは、フルセットで 20〜40 秒ほどかかります。
"""),
    ("code", r"""
from sklearn.neighbors import KNeighborsClassifier

parent = exp.start_logging()
parent.tag("model", "kNN")
parent.log("train images", n_train)
parent.log("test images", n_eval)

start = time.perf_counter()
for k in range(1, 15, 2):
    with parent.child_run(name=f"k={k}") as child:
        clf = KNeighborsClassifier(n_neighbors=k).fit(X_knn, y_knn)
        accuracy = np.average(clf.predict(X_eval) == y_eval)
        child.log("k", k)
        child.log("accuracy", accuracy)
    print(f"k={k:2d}, accuracy={accuracy:.2%}")
print(f"合計 {time.perf_counter() - start:.1f} 秒")
"""),
    ("markdown", r"""
### 記録から最良の k を選ぶ

画面に表示された数字を目で見て選ぶのではなく、**記録したメトリック** から選びます。こうしておけば、後日ノートブックを閉じたあとでも、
同じ記録から同じ結論を出せます。

`parent.get_metrics(recursive=True)` は、親とすべての子の記録を「Run の ID → その Run のメトリック」の辞書で返します。
"""),
    ("code", r"""
all_metrics = parent.get_metrics(recursive=True)
for run_id, values in all_metrics.items():
    role = "親" if run_id == parent.id else "子"
    print(role, run_id[:8] + "…", values)
"""),
    ("code", r"""
trials = [values for run_id, values in all_metrics.items() if run_id != parent.id]
best = max(trials, key=lambda values: values["accuracy"])    # 同点なら先に記録した (小さい) k
best_k = best["k"]
print(f"最良の k = {best_k} (accuracy {best['accuracy']:.2%})")
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print("子 Run の数:", len(trials))
print("子 Run のメトリック:", sorted(trials[0]))
"""),
    ("markdown", r"""
### 表とグラフで比べる

子 Run を `parent.get_children()` で取り出し、表にします。pandas などを使わずに、HTML の表を組み立てて表示します。
"""),
    ("code", r"""
import html

from IPython.display import HTML

rows = []
for child in parent.get_children():
    values = child.get_metrics()
    mark = "★" if values["k"] == best_k else ""
    rows.append(f"<tr><td>{html.escape(child.display_name.split('>')[-1])}</td><td>{values['k']}</td>"
                f"<td>{values['accuracy']:.4f}</td><td>{child.get_status()}</td><td>{mark}</td></tr>")

HTML("<table><tr><th>子 Run</th><th>k</th><th>accuracy</th><th>状態</th><th>最良</th></tr>"
     + "".join(rows) + "</table>")
"""),
    ("markdown", r"""
グラフにすると、k による違いが一目でわかります。このグラフも親 Run に画像として記録しておきます。
"""),
    ("code", r"""
ks = [values["k"] for values in trials]
accuracies = [values["accuracy"] for values in trials]

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(ks, accuracies, marker="o")
ax.plot([best_k], [best["accuracy"]], marker="*", markersize=16, color="tab:red", label=f"best k = {best_k}")
ax.set_xticks(ks)
ax.set_xlabel("k (number of neighbors)")
ax.set_ylabel("accuracy")
ax.set_title("kNN on MNIST: accuracy by k")
ax.legend()
parent.log_image("accuracy by k", plot=fig)
plt.show()
"""),
    ("markdown", r"""
最後に、ハンズオンと同じ名前 (`Best_k` と `accuracy`) で、選んだ結果を親 Run に記録して完了にします。
"""),
    ("code", r"""
parent.log("Best_k", best_k)
parent.log("accuracy", best["accuracy"])
parent.complete()
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
sorted(parent.get_metrics())
"""),
    ("markdown", r"""
k を大きくすると、たくさんの近所の多数決になるので、1 枚だけの「たまたま似ている」画像にだまされにくくなります。
一方で大きくしすぎると、遠くの (あまり似ていない) 画像まで投票に加わり、正解率が下がっていきます。
MNIST では、小さめの k (1〜5) が良いことが多いようです。

kNN の正解率は 96〜97% ほどで、04 のロジスティック回帰 (約 92.6%) より高くなりました。そのかわり予測に時間がかかります。

**注意**: ここでは、ハンズオンに合わせて **テストデータ** で k を選びました。本来は、訓練データの一部を「検証データ」として取り分けて k を選び、
テストデータは最後に 1 回だけ使うのが正しいやり方です。テストデータで選ぶと、テストの正解率が実力より少し良く見えてしまうからです。
"""),
    ("markdown", r"""
## 5. RunDetails ウィジェットで見る

`RunDetails(run).show()` は、Run の状態、メトリック、グラフ、画像、子 Run などをまとめて表示するウィジェットです。
2019 年の `azureml.widgets` は古い Jupyter Notebook 専用で、JupyterLab では表示できませんでした。このコースのものは JupyterLab 4 でも表示できます。
実行中の Run を表示すると、Run が終わるまで自動で更新されます。

上のタブ (Metrics, Charts, Images, Child runs, …) をクリックして、中身を見てみましょう。
"""),
    ("code", r"""
from amlhandson.widgets import RunDetails

RunDetails(parent).show()
"""),
    ("markdown", r"""
## 6. マジックで記録する

ここまでのように `start_logging()` → 記録 → `complete()` と書くのは、少し手間です。
このコースには、セルを丸ごと 1 つの Run として記録する **マジック** (`%` や `%%` で始まる Jupyter の特別な命令) を用意しています。
(これは 2019 年の Azure にはなかった、このコース独自の機能です。)

まず `%load_ext amlhandson` でマジックを読み込みます。
"""),
    ("code", r"""
%load_ext amlhandson
"""),
    ("markdown", r"""
セルの 1 行目に `%%aml_run -e 実験名 -n Run の名前` と書くと、そのセルが 1 つの Run になります。

- セルの中では、変数 `run` がその Run です。`run.log(...)` でそのまま記録できます。
- セルが最後まで実行されると Run は自動で完了 (`Completed`) に、途中でエラーが起きると失敗 (`Failed`) になります。
- セルのコードと、`print` の出力も Run に保存されます。
- `-t キー=値` でタグも付けられます。

ハンズオンの「ロジスティック回帰の Run が 1 つと kNN の Run が 1 つで、結果を比べる実験を作る」を、ここで完成させましょう。
04 のロジスティック回帰を、訓練画像 5,000 枚で (時間短縮のため)、kNN と同じテスト画像で評価して記録します。約 5 秒かかります。
"""),
    ("code", r"""
%%aml_run -e my-first-experiment -n logistic-regression -t model=LogisticRegression
from sklearn.linear_model import LogisticRegression

n_lr = min(5_000, len(X_train))
lr = LogisticRegression(max_iter=300).fit(X_train[:n_lr], y_train[:n_lr])
lr_accuracy = np.average(lr.predict(X_eval) == y_eval)
run.log("train images", n_lr)
run.log("test images", n_eval)
run.log("accuracy", lr_accuracy)
print(f"logistic regression: accuracy={lr_accuracy:.2%}")
"""),
    ("markdown", r"""
`%aml_runs 実験名` は、実験の Run を新しい順に表にします。記録したメトリックが列になるので、ロジスティック回帰と kNN の `accuracy` を並べて比べられます。
(このノートブックを何度か実行すると、そのたびに Run が増えていきます。表には新しいものから 10 件が表示されます。)
"""),
    ("code", r"""
%aml_runs my-first-experiment
"""),
    ("markdown", r"""
ロジスティック回帰の `accuracy` が 04 (約 0.926) より低いのは、ここでは時間短縮のために訓練画像を 5,000 枚しか使っていないからです。
`train images` の列を見れば、それもすぐにわかります。条件をメトリックやタグとして一緒に記録しておくと、こうした比較の落とし穴に気づけます。

同じ表は、ターミナルで `amlhandson runs list -e my-first-experiment` を実行しても表示できます (`--all` を付けると子 Run も)。

## 演習

### 演習 1: 記録から読み出す

親 Run `parent` に記録した `Best_k` の値を、`get_metrics()` を使って **記録から** 読み出し、`answer_1` に入れてください。
(変数 `best_k` を使わずに、`parent.get_metrics()` の辞書から取り出してみましょう)
"""),
    ("code", r"""
# 演習 1: 下の None を書き換えてください
answer_1 = None
"""),
    ("code", r"""
from amlhandson.exercises import check

check(answer_1, parent.get_metrics()["Best_k"],
      hint='parent.get_metrics() は {"メトリック名": 値} の辞書です。["Best_k"] で取り出せます。');
"""),
    ("markdown", r"""
<details><summary>解答例</summary>

```python
answer_1 = parent.get_metrics()["Best_k"]
```

`parent.get_metrics("Best_k")` のように名前を指定すると、そのメトリックだけの辞書が返ります。

</details>

### 演習 2: いちばん悪かった k

子 Run の記録から、**accuracy がいちばん低かった k** を求めて `answer_2` に入れてください。
(ヒント: 上の `trials` は子 Run のメトリックのリストです。`max` の代わりに `min` を使うと…?)
"""),
    ("code", r"""
# 演習 2: 下の None を書き換えてください
answer_2 = None
"""),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, min(trials, key=lambda values: values["accuracy"])["k"],
      hint='min(trials, key=lambda values: values["accuracy"])["k"] で求められます。');
"""),
    ("markdown", r"""
<details><summary>解答例</summary>

```python
worst = min(trials, key=lambda values: values["accuracy"])
answer_2 = worst["k"]
```

k が大きいほど低くなる傾向がありますが、1,000 枚での比較なので、順番は少し前後します。

</details>
"""),
    ("markdown", r"""
## 7. Studio (ポータル) で Run を比べる

2019 年のハンズオンでは、記録した Run を **Azure portal** の実験のページで見比べました。このコースでは **AML Studio (ローカル版)** で同じことができます。
JupyterLab の Launcher の **AML Studio** カードか、次のセルのリンクで `my-first-experiment` の Run の一覧を開きましょう。

- 列の見出し (例: `accuracy`) をクリックすると、その値で並べ替えられます。状態・タグ・メトリックの範囲 (例: `accuracy:0.95:`) で絞り込めます。
- Run の番号をクリックすると、その Run のメトリック、グラフ、子 Run、ファイルとログが表示されます。実行中の Run は自動で更新されます。
- 左のチェックボックスで Run を 2 つ以上選んで「比較」を押すと、メトリックを横に並べ、グラフを重ねて比べられます。
"""),
    ("code", r"""
%aml_studio -e my-first-experiment
"""),
    ("markdown", r"""
## まとめ

- **実験** は Run のグループ、**Run** は 1 回の試行の記録です。`Experiment(ws, "my-first-experiment")` で実験を作り、
  `exp.start_logging()` で Run を始めました。
- `run.log` (1 つの値)、`run.log_list` (リスト)、`run.log_image` (図) で記録し、`run.complete()` で完了にし、
  `run.get_metrics()` で読み出しました。
- kNN の k の探索を、親 Run と 7 つの子 Run (`parent.child_run`) として記録し、`get_metrics(recursive=True)` の記録から最良の k を選んで
  `Best_k` と `accuracy` を記録しました。
- Run の比較は、表 (`get_children()` から作った HTML の表、`%aml_runs`) とグラフで行いました。
  `RunDetails(run).show()` でも Run の中身を一覧できます。
- ポータルの画面にあたる **AML Studio** (`%aml_studio -e 実験名`) では、Run を並べ替え・絞り込み・比較できます。
- `%%aml_run` マジックを使うと、セル 1 つを手軽に Run として記録できます。

2019 年のハンズオンでは、このあと同じ学習を Azure の計算機 (リモートのコンピューティング先) で実行し、
できたモデルを登録して Web サービスとしてデプロイしました。

## 次へ

次の [06-deploy.ipynb](06-deploy.ipynb) では、学習したモデルを登録し、Web サービスとしてデプロイします。
コース全体の地図は [README.md](README.md) を見てください。記録した Run は、ターミナルで `amlhandson runs list -e my-first-experiment` を実行していつでも見返せます。
"""),
]
