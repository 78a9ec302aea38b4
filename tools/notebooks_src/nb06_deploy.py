"""Source of notebooks/06-deploy.ipynb (see tools/build_notebooks.py)."""

NAME = "06-deploy"

CELLS = [
    ("markdown", r"""
# 06 モデルを登録して Web サービスとしてデプロイする

2019 年のハンズオンの最後の段階は、学習したモデルを **登録** し、**Web サービス** として **デプロイ** (配置) することでした。
Web サービスにすると、ほかのプログラムが HTTP でデータを送るだけで、モデルの予測を受け取れるようになります。

当時は Docker イメージを作って Azure Container Instances (ACI) に配置するので、1 回のデプロイに 7〜8 分かかりました。
しかも `score.py` にまちがいがあると、長く待ったあとに「Did your init method fail?」とだけ表示されることもありました。
このコースでは同じコードで、このパソコンの中に **数秒で** Web サービスを起動します。失敗したときは、理由とエラーの場所がすぐにわかります。

## 学習の目的

- 学習したモデルを `run.register_model` でワークスペースに登録し、モデルの名前とバージョン (`sklearn_mnist:1`) の意味がわかる
- スコアリング スクリプト `score.py` の `init()` と `run()` の役割がわかり、自分で書ける
- `CondaDependencies` と `Environment` で、環境ファイル (`myenv.yml`) を作れる
- `InferenceConfig` と `Model.deploy` で Web サービスを起動し、`service.run` と HTTP のリクエスト (`POST /score`) で予測を受け取れる
- デプロイに失敗したとき、エラーメッセージと `service.get_logs()` から原因を見つけ、`service.reload()` で直せる

## 所要時間

約 25 分。時間のかかるセルは次の 2 つです (2 コアのパソコンでの目安)。

- 「3. モデルを学習して登録する」の学習のセル: 訓練画像 10,000 枚で約 10〜30 秒 (クイック モードでは数秒)
- 「7. Web サービスを呼び出す」のテスト画像 10,000 枚の予測: 約 5〜10 秒
"""),
    ("markdown", r"""
## 1. デプロイの流れ

デプロイには、次の 3 つが必要です (2019 年のハンズオンの説明のとおりです)。

- **スコアリング スクリプト** (`score.py`): モデルをどう読み込み、どう予測するかを書いた Python のファイル
- **環境ファイル** (`myenv.yml`): スクリプトが使うパッケージ (scikit-learn など) の一覧
- **構成** (deployment configuration): サービスに割り当てる CPU やメモリ、キー認証などの設定

```mermaid
flowchart LR
    M["学習したモデル<br/>sklearn_mnist_model.pkl"] -->|"run.register_model"| R[("登録済みモデル<br/>sklearn_mnist:1")]
    S["score.py<br/>init() / run()"] --> I["InferenceConfig"]
    E["myenv.yml<br/>Environment"] --> I
    R --> D["Model.deploy"]
    I --> D
    C["構成<br/>AciWebservice.deploy_configuration"] --> D
    D --> W["Web サービス<br/>POST /score"]
    U["呼び出す側<br/>service.run / HTTP"] -->|"JSON"| W
```

| | 2019 年 (Azure) | このコース |
|---|---|---|
| サービスが動く場所 | Azure Container Instances (ACI) | このパソコンの中 (`127.0.0.1`) の別のプロセス |
| デプロイの時間 | 7〜8 分 (Docker イメージの作成を含む) | 数秒 |
| 呼び出せる相手 | インターネット上のどこからでも | このパソコンの中からだけ |
| Docker イメージ | 必ず作る | 作らない (`Model.package` で作るためのファイルを書き出せます) |

`AciWebservice` の設定で `cpu_cores` や `memory_gb` を指定できますが、このコースでは記録されるだけで、サービスはこのパソコンで動きます。
"""),
    ("markdown", r"""
## 2. 準備

データとワークスペースを用意します。05 までと同じく、`Workspace.from_config()` は `config.json` を見つけて `docs-ws` を開きます。
"""),
    ("code", r"""
import json
import os
import shutil
import sys
import urllib.error
import urllib.request
import warnings

import matplotlib.pyplot as plt
import numpy as np

from amlhandson import Experiment, Workspace
from amlhandson.datasets import mnist

AMLHANDSON_QUICK = os.environ.get("AMLHANDSON_QUICK") == "1"
mnist.download("data", progress=False)
X_train, y_train, X_test, y_test = mnist.load("data")

ws = Workspace.from_config()
"""),
    ("markdown", r"""
## 3. モデルを学習して登録する

04 で学んだロジスティック回帰を、ここでもう一度学習します。今回の主役はデプロイなので、時間短縮のため訓練画像を 10,000 枚に減らします
(クイック モードでは 2,000 枚)。学習は 05 で学んだ Run として記録し、モデルを `outputs/` フォルダーに保存します。
`run.complete()` を呼ぶと、`outputs/` の中身が Run のファイルとしてアップロードされます。

04 で見た `ConvergenceWarning` (反復の上限に達した、という注意) は、今回は表示しないようにしています。
"""),
    ("code", r"""
import joblib
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

n_train = min(2_000 if AMLHANDSON_QUICK else 10_000, len(X_train))

exp = Experiment(workspace=ws, name="deploy-mnist")
run = exp.start_logging()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf = LogisticRegression(max_iter=100).fit(X_train[:n_train], y_train[:n_train])
accuracy = np.average(clf.predict(X_test) == y_test)
run.log("train images", n_train)
run.log("accuracy", accuracy)

os.makedirs("outputs", exist_ok=True)
joblib.dump(clf, "outputs/sklearn_mnist_model.pkl")
run.complete()
print(f"訓練画像 {n_train:,} 枚で学習しました。テストの正解率: {accuracy:.4f}")
"""),
    ("markdown", r"""
Run のファイルになったモデルを、**モデル** としてワークスペースに登録します。

- `model_path` は **Run のファイルの中の場所** です。`outputs/` から始めます (`"sklearn_mnist_model.pkl"` だけではありません。
  2019 年によくあったまちがいで、このコースではそのときに正しい書き方をエラーメッセージで教えてくれます)。
- `tags` は、あとからモデルを探すための「ラベル」です。
- 登録すると、ファイルがワークスペースの中にコピーされ、中身の **ハッシュ値** (SHA-256) も記録されます。
  あとでファイルが書き換えられていたら、ダウンロードやデプロイのときにエラーで知らせてくれます。
"""),
    ("code", r"""
model = run.register_model(model_name="sklearn_mnist", model_path="outputs/sklearn_mnist_model.pkl",
                           tags={"data": "mnist", "model": "classification"},
                           description="MNIST の手書き数字を分類するロジスティック回帰")
print("name   :", model.name)
print("version:", model.version)
print("id     :", model.id)
"""),
    ("markdown", r"""
同じ名前で登録するたびに、**バージョン** が 1, 2, 3 … と増えます (このノートブックを実行し直すと、そのたびに増えます)。
`id` は「名前:バージョン」です。`Model(ws, 名前)` は最新のバージョン、`Model(ws, 名前, version=1)` は指定したバージョンを取り出します。
`Model.list` で、登録済みのモデルの一覧 (新しいバージョンが先) を見られます。
"""),
    ("code", r"""
from amlhandson.core.model import Model

for m in Model.list(ws, name="sklearn_mnist")[:3]:
    print(m.id, m.tags)
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
latest = Model(ws, "sklearn_mnist")
print(latest.id == model.id, latest.file_name, latest.tags)
"""),
    ("markdown", r"""
## 4. スコアリング スクリプト (score.py) を書く

Web サービスの中では、`score.py` の 2 つの関数が呼ばれます。

| 関数 | 呼ばれるとき | することの例 |
|---|---|---|
| `init()` | サービスの起動時に **1 回だけ** | モデルのファイルを読み込み、グローバル変数に入れておく |
| `run(raw_data)` | リクエストが来る **たびに** | 送られてきた JSON の文字列 (`raw_data`) を読み、予測して、結果を返す |

- 登録したモデルのファイルは、環境変数 `AZUREML_MODEL_DIR` が指すフォルダーに置かれます。
- 送るデータは、2019 年のハンズオンと同じ `{"data": [[784 個の数], [784 個の数], ...]}` という JSON の形にします (1 行が画像 1 枚)。
- `run` の戻り値は、リストや辞書など **JSON にできる値** にします。NumPy の配列は `.tolist()` でリストにします。

`%%writefile` は、セルの中身をファイルに保存する Jupyter のマジックです。`deploy` フォルダーに保存します。
"""),
    ("code", r"""
os.makedirs("deploy", exist_ok=True)
"""),
    ("code", r"""
%%writefile deploy/score.py
import json
import os

import joblib
import numpy as np


def init():
    # サービスの起動時に 1 回だけ呼ばれる: モデルを読み込んでグローバル変数に入れておく
    global model
    # AZUREML_MODEL_DIR = デプロイしたモデルのフォルダー (azureml-models/<モデル名>/<バージョン>)
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "sklearn_mnist_model.pkl")
    model = joblib.load(model_path)


def run(raw_data):
    # リクエストのたびに呼ばれる: raw_data は {"data": [[...], ...]} という JSON の文字列
    data = np.array(json.loads(raw_data)["data"])
    y_hat = model.predict(data)
    # JSON にできる値 (リスト) を返す
    return y_hat.tolist()
"""),
    ("markdown", r"""
## 5. 環境ファイルを作る

`score.py` が使うパッケージを、conda の環境ファイル (`myenv.yml`) に書きます。2019 年のハンズオンと同じく、`CondaDependencies` で作ります。
"""),
    ("code", r"""
from amlhandson.core.conda_dependencies import CondaDependencies
from amlhandson.core.environment import Environment

myenv = CondaDependencies.create(conda_packages=["scikit-learn", "numpy"], pip_packages=["joblib"])
myenv.save("deploy/myenv.yml")

with open("deploy/myenv.yml", encoding="utf-8") as f:
    print(f.read())
"""),
    ("markdown", r"""
この環境ファイルから `Environment` (環境) を作ります。

- 2019 年の Azure では、この一覧をもとに conda がパッケージを入れた Docker イメージを作りました。そのため、サーバーの部品の
  `azureml-defaults` を書き忘れると、サービスが「No module named 'flask'」で止まりました。
- このコースでは、サービスは **いま動いている Python** (このノートブックと同じパッケージ) で動きます。環境ファイルは、
  11 で Docker イメージ用のファイルを書き出すときに使われます。`azureml-defaults` は必要ありません。
"""),
    ("code", r"""
env = Environment.from_conda_specification(name="sklearn-env", file_path="deploy/myenv.yml")
print(env.name, env.python.conda_dependencies.pip_packages)
"""),
    ("markdown", r"""
## 6. デプロイする

3 つの材料をまとめます。

- `InferenceConfig(entry_script=..., environment=...)`: どのスクリプトを、どの環境で動かすか
- `AciWebservice.deploy_configuration(...)`: サービスの構成。ハンズオンと同じく CPU 1 コア、メモリ 1 GB とし、タグと説明も付けます
- `Model.deploy(ws, サービス名, [モデル], inference_config, deployment_config)`: デプロイを始めます。
  `overwrite=True` を付けると、同じ名前のサービスがあれば置き換えます (このノートブックを何度実行しても大丈夫なように)

`service.wait_for_deployment(show_output=True)` で、サービスが応答するまで待ちます。
"""),
    ("code", r"""
import time

from amlhandson.core.model import InferenceConfig
from amlhandson.core.webservice import AciWebservice

inference_config = InferenceConfig(entry_script="deploy/score.py", environment=env)
deployment_config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1,
                                                       tags={"data": "MNIST", "method": "sklearn"},
                                                       description="Predict MNIST with sklearn")

start = time.perf_counter()
service = Model.deploy(workspace=ws, name="sklearn-mnist-svc", models=[model],
                       inference_config=inference_config, deployment_config=deployment_config,
                       overwrite=True)
service.wait_for_deployment(show_output=True)
print(f"デプロイにかかった時間: {time.perf_counter() - start:.1f} 秒")
"""),
    ("markdown", r"""
サービスの状態 (`state`) が `Healthy` なら、リクエストを受け付けられます。`scoring_uri` が、予測を頼むときに送る先の URL です。
`127.0.0.1` は「このパソコン自身」を表すアドレスで、ほかのパソコンからはつながりません。`:` の後ろの数字 (ポート番号) は、空いている番号が自動で選ばれます。
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print(service.state)
print(service.scoring_uri)
"""),
    ("markdown", r"""
## 7. Web サービスを呼び出す

### service.run で呼び出す

テスト画像の先頭 10 枚を JSON にして、`service.run` で送ります。戻り値は、サービスが返した予測 (数字のリスト) です。
"""),
    ("code", r"""
test_samples = json.dumps({"data": X_test[:10].tolist()})
result = service.run(input_data=test_samples)
print("予測:", result)
print("正解:", y_test[:10].tolist())
"""),
    ("markdown", r"""
画像と予測を並べて見てみましょう。予測がまちがっている画像は、数字を赤で表示します。
"""),
    ("code", r"""
fig, axes = plt.subplots(1, 10, figsize=(16, 2.4))
for ax, image, predicted, label in zip(axes, X_test[:10], result, y_test[:10]):
    ax.imshow(image.reshape(28, 28), cmap=plt.cm.Greys)
    ax.set_title(str(predicted), fontsize=18, color="black" if predicted == label else "red")
    ax.axis("off")
plt.show()
"""),
    ("markdown", r"""
### HTTP のリクエストで呼び出す

`service.run` の中では、`scoring_uri` に **HTTP の POST リクエスト** を送っています。ヘッダーの `Content-Type: application/json` で
「本文は JSON です」と伝えます。Python 以外のプログラム (ほかの言語や `curl` コマンド) からも、同じ形で呼び出せます。

ここでは Python に最初から入っている `urllib.request` を使います (`requests` パッケージがあれば
`requests.post(service.scoring_uri, data=test_samples, headers=headers)` でも同じです)。
"""),
    ("code", r"""
headers = {"Content-Type": "application/json"}
request = urllib.request.Request(service.scoring_uri, data=test_samples.encode("utf-8"),
                                 headers=headers, method="POST")
# 127.0.0.1 へは、プロキシを通さずに直接つなぐ
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(request) as response:
    print("HTTP", response.status, response.headers["Content-Type"])
    print(json.loads(response.read()))
"""),
    ("markdown", r"""
### テスト画像全部で正解率を測る

テスト画像を 1,000 枚ずつサービスに送って予測させ、正解率を測ります (クイック モードでは 1,000 枚だけ)。
サービスの中のモデルは、このノートブックで学習した `clf` と同じものなので、正解率も同じになるはずです。
"""),
    ("code", r"""
n_eval = 1_000 if AMLHANDSON_QUICK else len(X_test)
predicted = []
for begin in range(0, n_eval, 1_000):
    batch = json.dumps({"data": X_test[begin:begin + 1_000].tolist()})
    predicted += service.run(input_data=batch)

served_accuracy = np.average(np.array(predicted) == y_test[:n_eval])
local_accuracy = np.average(clf.predict(X_test[:n_eval]) == y_test[:n_eval])
print(f"サービスの正解率: {served_accuracy:.4f} ({n_eval:,} 枚)")
print(f"ノートブックの clf の正解率: {local_accuracy:.4f}")
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print("同じ正解率:", served_accuracy == local_accuracy)
"""),
    ("markdown", r"""
## 8. 演習

### 演習 1: まちがった Content-Type で送ると?

ヘッダーの `Content-Type` を `text/plain` にして、同じデータを送ってみます。サービスはリクエストを受け付けず、
**ステータスコード** (HTTP の結果を表す 3 桁の数字。200 は成功) とエラーの説明を返します。
下のセルを実行し、表示されたステータスコードを整数で `answer_1` に入れてください。
"""),
    ("code", r"""
bad_request = urllib.request.Request(service.scoring_uri, data=test_samples.encode("utf-8"),
                                     headers={"Content-Type": "text/plain"}, method="POST")
try:
    opener.open(bad_request)
except urllib.error.HTTPError as error:
    print("HTTP", error.code)
    print(json.loads(error.read())["message"])

# 演習 1: 下の None を書き換えてください
answer_1 = None
"""),
    ("code", r"""
from amlhandson.exercises import check

check(answer_1, 415, hint="上のセルで「HTTP」のあとに表示された 3 桁の数字を、整数 (引用符なし) で入れてください。");
"""),
    ("markdown", r"""
<details><summary>解答例</summary>

```python
answer_1 = 415
```

415 は「Unsupported Media Type」(本文の種類が受け付けられない) という意味です。ほかにも、JSON として読めない本文には 400、
大きすぎる本文 (10 MB より大きい) には 413、`run()` の中で例外が起きたときには 500 が返ります。どれも、本文の説明 (`message`) に理由が書かれています。

</details>

### 演習 2: 11 枚目から 20 枚目を予測させる

テスト画像の 11 枚目から 20 枚目 (`X_test[10:20]`) を `service.run` で送り、返ってきた予測のリストを `answer_2` に入れてください。
(ヒント: 7 の `test_samples` の作り方をまねします)
"""),
    ("code", r"""
# 演習 2: 下の None を書き換えてください
answer_2 = None
"""),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, clf.predict(X_test[10:20]).tolist(),
      hint='service.run(json.dumps({"data": X_test[10:20].tolist()})) の戻り値です。');
"""),
    ("markdown", r"""
<details><summary>解答例</summary>

```python
answer_2 = service.run(json.dumps({"data": X_test[10:20].tolist()}))
```

NumPy の配列は JSON にできないので、`.tolist()` でリストにしてから `json.dumps` します。

</details>
"""),
    ("markdown", r"""
## 9. わざと失敗させてみる

`score.py` にまちがいがあると、サービスは起動できません。わざとまちがえた `score_broken.py` を作って、何が起きるかを見てみましょう。
`init()` の中で、変数名を `model_path` ではなく `model_pth` と書きまちがえています。

ここでは 2019 年にローカルでの試運転に使った `LocalWebservice` でデプロイします。
"""),
    ("code", r"""
%%writefile deploy/score_broken.py
import json
import os

import joblib
import numpy as np


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "sklearn_mnist_model.pkl")
    model = joblib.load(model_pth)  # まちがい: model_path と書くところを model_pth と書いた


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
"""),
    ("code", r"""
from amlhandson.core.webservice import LocalWebservice
from amlhandson.exceptions import WebserviceException

broken_config = InferenceConfig(entry_script="deploy/score_broken.py", environment=env)
broken = Model.deploy(ws, "sklearn-mnist-broken", [model], broken_config,
                      LocalWebservice.deploy_configuration(), overwrite=True)
try:
    broken.wait_for_deployment()
except WebserviceException as error:
    print(error)
"""),
    ("markdown", r"""
1 行目の「Error: Connection to container has failed. Did your init method fail?」は、2019 年の Azure ML と同じ文です。
当時はこの 1 文しか出ないこともありましたが、ここでは続けて、どのファイルの何行目で、どんな例外 (`NameError`: その名前の変数がない)
が起きたかが表示されます。

サービスの **ログ** も見てみましょう。`print` の出力やエラーの詳しい内容はログに残ります。2019 年の Azure でも、
失敗の原因を調べるときは、まず `service.get_logs()` でした。
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print(broken.state)
"""),
    ("code", r"""
print(broken.get_logs())
"""),
    ("markdown", r"""
直し方: `score_broken.py` を正しい内容に書き直して、`service.reload()` を呼びます。`reload()` は、スクリプトをもう一度コピーして
サービスを起動し直します (モデルや設定はそのまま、URL も変わりません)。ここでは、正しい `score.py` の中身で上書きします。
"""),
    ("code", r"""
shutil.copy("deploy/score.py", "deploy/score_broken.py")
broken.reload()
print(broken.state)
"""),
    ("code", r"""
broken.delete()
print(broken.state)
"""),
    ("markdown", r"""
## 10. あとからサービスを見つける

デプロイしたサービスは、ノートブックのカーネルを止めても動き続けます (2019 年の ACI と同じです)。
別のノートブックやカーネルからは、`Webservice(ws, サービス名)` や `ws.webservices` で、動いているサービスを見つけられます。
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
from amlhandson.core.webservice import Webservice

again = Webservice(ws, "sklearn-mnist-svc")
print(type(again).__name__, again.state)
"""),
    ("markdown", r"""
ターミナルからは、`amlhandson services list` で一覧を、`amlhandson services stop サービス名` で止められます
(`amlhandson services logs サービス名` でログも見られます)。ノートブックの中から、`!` を付けて実行してみます。
"""),
    ("code", r"""
!{sys.executable} -m amlhandson.cli services list
"""),
    ("markdown", r"""
## 11. Docker イメージ用のファイルを書き出す (参考)

2019 年の Azure では、デプロイのたびに Docker イメージが作られました。このコースのデプロイでは Docker を使いませんが、
`Model.package` で、同じサービスの Docker イメージを作るためのファイル一式 (build context) を書き出せます。
Docker が使えるパソコンでは、このフォルダーで `docker build` を実行すればイメージができます (このノートブックではビルドはしません)。
"""),
    ("code", r"""
package = Model.package(ws, [model], inference_config, output_dir="deploy/imagefiles")
print(sorted(os.listdir("deploy/imagefiles")))
with open("deploy/imagefiles/Dockerfile", encoding="utf-8") as f:
    print("".join(f.readlines()[2:3]))
"""),
    ("markdown", r"""
- `Dockerfile`: イメージの作り方。5 で作った環境ファイル (`environment.yml`) から conda でパッケージを入れます
- `app/`: `score.py` と、登録したモデル (`azureml-models/sklearn_mnist/<バージョン>/`)
- `amlhandson-src/`: サービスを動かすサーバーのプログラム
- `README.md`: ビルドと起動のコマンド (`docker build -t sklearn-mnist-package .` → `docker run -p 6789:5001 sklearn-mnist-package`)
"""),
    ("markdown", r"""
## Studio (ポータル) でモデルとエンドポイントを見る

2019 年のハンズオンでは、登録したモデルとデプロイしたサービスを Azure portal の「モデル」「デプロイ」の画面で確認しました。
**AML Studio (ローカル版)** では、次のページで同じことができます (JupyterLab の Launcher の **AML Studio** カードか、下のリンク)。

- **モデル**: バージョン、タグ、ハッシュ (SHA-256)、どの Run から登録したか。ファイルのダウンロードもできます。
- **エンドポイント**: サービスの状態、スコアリング URI、swagger、ログ。**テスト** 欄に `{"data": [[...784 個の数...]]}` のような JSON を入れて
  「送信」を押すと、`service.run(...)` と同じようにサービスを呼び出して答えを表示します。
"""),
    ("code", r"""
%load_ext amlhandson
%aml_studio -p endpoints
%aml_studio -p models
"""),
    ("markdown", r"""
## 12. 後片付け

使い終わったサービスは削除します。2019 年の ACI では、削除しないと料金がかかり続けました。このコースではお金はかかりませんが、
サービスのプロセスがパソコンのメモリを使い続けるので、`service.delete()` で止めましょう。
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
service.delete()
print(service.state)
"""),
    ("markdown", r"""
## まとめ

- 学習したモデルを `run.register_model(model_name=..., model_path="outputs/...")` で登録しました。登録するたびにバージョンが増え、
  `id` は「名前:バージョン」です。`Model(ws, 名前)` で最新のモデルを取り出せます。
- `score.py` には、起動時に 1 回呼ばれる `init()` (モデルを読み込む) と、リクエストのたびに呼ばれる `run(raw_data)` (予測して返す) を書きました。
  モデルのファイルは `AZUREML_MODEL_DIR` のフォルダーにあります。
- `CondaDependencies` で環境ファイルを作り、`Environment`・`InferenceConfig`・`deploy_configuration` をそろえて `Model.deploy` でデプロイしました。
  2019 年には 7〜8 分かかったデプロイが、数秒で終わりました。
- サービスは `service.run` でも、`scoring_uri` への HTTP の POST リクエスト (`Content-Type: application/json`) でも呼び出せます。
  サービスの予測の正解率は、ノートブックの中のモデルと同じでした。
- `init()` が失敗すると、`wait_for_deployment` がエラーの場所と理由を表示します。`service.get_logs()` でログを読み、
  直したら `service.reload()` で起動し直します。使い終わったら `service.delete()` で止めます。
- 登録したモデルとサービスは **AML Studio** のモデル・エンドポイントのページでも確認でき、テスト欄からサービスを呼び出せます。

## 次へ

これで、2019 年のハンズオンの流れ (ワークスペース → データ → 学習 → 実験の記録 → 登録とデプロイ) をひととおり体験しました。
コース全体の地図は [README.md](README.md) を見てください。
"""),
]
