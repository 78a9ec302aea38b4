"""Source of notebooks/01-workspace.ipynb (see tools/build_notebooks.py)."""

NAME = "01-workspace"

CELLS = [
    ("markdown", r"""
# 01 ワークスペースを作る

ワークスペースは、実験や実行の記録、登録したモデルなど、service で行う作業のすべてが集まる「拠点」です (00 の図の外枠)。
このノートブックでは Python からワークスペースを作り、その情報を `config.json` というファイルに書き出して、
次からはそのファイルを使ってワークスペースを開けるようにします。

## 学習の目的

- `Workspace.create` でワークスペースを作れる
- `ws.write_config()` で `config.json` を書き出し、`Workspace.from_config()` で読み込める
- `ws.get_details()` でワークスペースの詳細を見て、データがどこに保存されるかを説明できる
- `config.json` が見つからないときに何が起きるか、どう直せばよいかがわかる

## 所要時間

約 10 分 (時間のかかるセルはありません。どのセルも 1 秒以内に終わります)
"""),
    ("markdown", r"""
## 1. ワークスペースを作る

2019 年のハンズオンでは、Azure portal の画面でワークスペースを作る方法と、Python で作る方法の両方を紹介していました。
ポータルでは次の 4 つを入力します。

| 項目 | 意味 | このハンズオンの値 |
|---|---|---|
| ワークスペース名 | ワークスペースの名前。リソース グループの中で重ならないように付けます | `docs-ws` |
| サブスクリプション | 料金を払う Azure の契約 | (各自のもの) |
| リソース グループ | 関連する Azure のリソースをまとめておく入れ物。なければ新しく作られます | `docs-aml` |
| 場所 (リージョン) | ワークスペースを置くデータセンター。使う人やデータに近い場所を選びます | 例: `japaneast` (東日本) |

Python では、同じ 4 つを `Workspace.create` に渡します。

Azure では、この呼び出しで Azure 上にワークスペース (とストレージ アカウントなどの関連リソース) が作られ、数分かかりました。
このコースでは、このパソコンの中にワークスペース用のフォルダーが作られるだけなので一瞬です。
Azure のサブスクリプションはないので、`subscription_id` には 0 を並べた仮の ID を入れます。

`exist_ok=True` は「同じ名前のワークスペースがすでにあれば、エラーにせずにそれを使う」という指定です。
このセルを何度実行しても大丈夫なように付けています (初めて作ったときだけ `Deployed workspace ...` と表示されます)。
"""),
    ("code", r"""
from amlhandson import Workspace

ws = Workspace.create(
    name="docs-ws",
    subscription_id="00000000-0000-0000-0000-000000000000",
    resource_group="docs-aml",
    location="japaneast",
    exist_ok=True,
)
"""),
    ("markdown", r"""
`ws` が、作ったワークスペースを表すオブジェクトです。セルの最後に変数名だけを書くと、中身が表示されます。
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
ws
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print("名前:", ws.name)
print("リソース グループ:", ws.resource_group)
"""),
    ("markdown", r"""
## 2. `config.json` を書き出す

毎回 `Workspace.create(...)` に名前やリソース グループを書くのは面倒ですし、書き間違えると別のワークスペースができてしまいます。
そこで、ワークスペースを特定するための情報を `config.json` というファイルに保存しておきます。

`ws.write_config()` を呼ぶと、今いるフォルダー (このノートブックのある `notebooks/`) の中の `.azureml/` フォルダーに
`config.json` が書き出されます。戻り値は書き出したファイルの場所です。

(2019 年のハンズオンでは、Azure Notebooks にプロジェクトを複製すると `config.json` が最初から入っていました。
このコースでも、リポジトリのいちばん上のフォルダーに `docs-ws` 用の `config.json` を置いてあります。)
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
config_path = ws.write_config()
config_path
"""),
    ("markdown", r"""
中身を見てみましょう。ワークスペースを特定する 3 つの情報 (サブスクリプション ID、リソース グループ、ワークスペース名) だけが入った、
小さな JSON ファイルです。パスワードのような秘密の情報は入っていません。
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print(config_path.read_text(encoding="utf-8"))
"""),
    ("markdown", r"""
## 3. `config.json` からワークスペースを開く

次からは `Workspace.from_config()` の 1 行でワークスペースを開けます。後のノートブックでもこの書き方を使います。

`from_config()` は `config.json` を次の順に探し、最初に見つかったものを使います。

1. 今いるフォルダー (その中の `.azureml/` と `aml_config/` も)
2. 1 つ上のフォルダー (その中の `.azureml/` と `aml_config/` も)
3. さらに上のフォルダー … と、いちばん上まで

見つかると `Found the config file in: <場所>` と表示します。
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
ws = Workspace.from_config()
print("開いたワークスペース:", ws.name)
"""),
    ("markdown", r"""
今いるフォルダーの `.azureml/config.json` が見つかりました。もし `write_config()` をする前だったら、1 つ上のフォルダー
(リポジトリのいちばん上) にある `config.json` が見つかっていたはずです。どちらも同じ `docs-ws` を指しています。
"""),
    ("markdown", r"""
## 4. ワークスペースの詳細を見る

`ws.get_details()` は、ワークスペースの詳細を辞書 (dict) で返します。キーの名前は Azure のものと同じです。
全部を表示すると長いので、主なものだけ見てみましょう。
"""),
    ("code", r"""
details = ws.get_details()
for key in ["name", "resourceGroup", "location", "subscriptionId", "sku", "creationTime"]:
    print(f"{key:15s} {details[key]}")
"""),
    ("markdown", r"""
`location` は、ワークスペースを最初に作ったときの値です。もし先に 05 などのワークスペースを使うノートブックを実行していたら、
そのときに `config.json` からワークスペースが自動で作られているので、`local` と表示されます (どちらでも問題ありません)。

### データはどこにあるの?

Azure では、ワークスペースを作ると、記録やファイルを保存するストレージ アカウント、秘密情報を守る Key Vault、
監視のための Application Insights、イメージを置くコンテナー レジストリが一緒に作られました。

このコースでは、すべてが **1 つのフォルダー** に入ります。`get_details()` の `localPath` が、その場所です。
ふだんは `~/.amlhandson/workspaces/<リソース グループ>/<ワークスペース名>/` です (`~` はホーム フォルダー)。
環境変数 `AMLHANDSON_HOME` を設定すると、`~/.amlhandson` の代わりにその場所が使われます (自動テストではこれを使っています)。

パソコンごとに違う部分 (ユーザー名など) を表示しないように、短く書き直す関数を作って表示します。
"""),
    ("code", r"""
import os
from pathlib import Path


def short_path(path):
    # ホーム フォルダー (または AMLHANDSON_HOME) からの相対パスにして表示します
    path = Path(path)
    if os.environ.get("AMLHANDSON_HOME"):
        base, label = Path(os.environ["AMLHANDSON_HOME"]).expanduser(), "$AMLHANDSON_HOME"
    else:
        base, label = Path.home(), "~"
    try:
        return f"{label}/{path.resolve().relative_to(base.resolve()).as_posix()}"
    except ValueError:
        return path.name


print("localPath:", short_path(details["localPath"]))
print("ws.path と同じ場所?", Path(details["localPath"]) == ws.path)
"""),
    ("markdown", r"""
フォルダーの中身を見てみましょう。

- `workspace.json`: ワークスペースの詳細 (`get_details()` の中身)
- `workspace.db` (と `-wal`, `-shm` の付いたファイル): 実験、実行、メトリックなどを記録するデータベース (SQLite)
- `experiments/`: 実行ごとのファイル (05 で使います)。まだ実験をしていなければありません
"""),
    ("code", r"""
for item in sorted(ws.path.iterdir()):
    print(item.name + ("/" if item.is_dir() else ""))
"""),
    ("markdown", r"""
ワークスペースをまるごと消したいときは、このフォルダーを削除するか、ターミナルで
`amlhandson workspace delete docs-ws -g docs-aml` を実行します (このコースの途中では消さないでください)。
ターミナルで `amlhandson workspace show` を実行すると、いま見た詳細を表示できます。
"""),
    ("markdown", r"""
## 5. `config.json` が見つからないと?

`config.json` のないフォルダーで `Workspace.from_config()` を実行すると、どうなるでしょう。
わざと空のフォルダーを作って試します。

- `tempfile.TemporaryDirectory()` は、一時的な空のフォルダーを作ります (`with` のブロックを出ると消えます)。
- `from_config(path=...)` には、探し始めるフォルダーを指定できます。
- `try` / `except` でエラーを受け止めて、エラーの種類とメッセージを表示します。

一時フォルダーの場所はパソコンごとに違うので、メッセージの中ではそれを `<空のフォルダー>` に置き換えて表示します。
"""),
    ("code", r"""
import tempfile

with tempfile.TemporaryDirectory() as empty_folder:
    try:
        Workspace.from_config(path=empty_folder)
    except FileNotFoundError as err:
        error = err
        message = str(err).replace(str(Path(empty_folder).resolve()), "<空のフォルダー>")
        message = message.replace(empty_folder, "<空のフォルダー>")

print("エラーの種類:", type(error).__name__)
print()
print(message)
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print(type(error).__name__, "は FileNotFoundError の一種:", isinstance(error, FileNotFoundError))
print("Azure と同じ書き出し:", message.startswith("We could not find config.json in:"))
"""),
    ("markdown", r"""
`ConfigNotFoundError` が出ました。メッセージの最初の文 (`We could not find config.json in: ...`) は Azure の SDK と同じ文言で、
指定したフォルダーとその上のフォルダーのどこにも `config.json` がなかった、という意味です。

直し方は 3 通りあります。

1. ワークスペースを開いて (または作って) から `ws.write_config()` を実行し、`config.json` を作る (この 01 でやったこと)
2. `config.json` のあるフォルダー (またはその下のフォルダー) でノートブックを開く
3. `Workspace.from_config(path="config.json のある場所")` のように、場所をはっきり指定する

`FileNotFoundError` の一種なので、`except FileNotFoundError:` で受け止めることもできます。
"""),
    ("markdown", r"""
## 6. ポータル (Studio) から 2 つ目のワークスペースを作る

2019 年のハンズオンでは、ワークスペースを **Azure portal** の画面 (「Machine Learning サービス ワークスペース」→「追加」) から作りました。
このコースには、そのポータルにあたる **AML Studio (ローカル版)** があります。JupyterLab の Launcher (左上の「+」) の
**AML Studio** カードで開くか、次のセルが表示するリンクを開いてください。

ポータルの「ワークスペースの作成」フォームに、ハンズオンと同じ項目を入れて「作成」を押します。

| 項目 | 入れる値 |
|---|---|
| ワークスペース名 | `docs-ws-portal` |
| サブスクリプション ID | (空のまま: オフラインなので `00000000-...` になります) |
| リソース グループ | `docs-aml` |
| 場所 | `japaneast` |

名前の決まり (英数字で始まる、使える記号は `-` `_` `.`) は `Workspace.create` と同じで、守っていないとフォームがその場で理由を表示します。
作成したら、フォームの下のリンクからそのワークスペースの `config.json` もダウンロードできます。
"""),
    ("code", r"""
%load_ext amlhandson
%aml_studio
"""),
    ("markdown", r"""
作ったワークスペースは、ノートブックからも `Workspace.get` で開けます。次のセルで確かめましょう
(まだ作っていなければ、作り方を表示します。作ってからもう一度実行してください)。
"""),
    ("code", r"""
from amlhandson.exceptions import WorkspaceNotFoundError

try:
    portal_ws = Workspace.get("docs-ws-portal", resource_group="docs-aml")
    print("ポータルで作ったワークスペース:", portal_ws.name, "/", portal_ws.location)
except WorkspaceNotFoundError:
    print("docs-ws-portal はまだありません。上のリンク (または Launcher の AML Studio) のフォームで作成してください。")
"""),
    ("markdown", r"""
## 演習

### 演習 1: 場所を指定して開く

`Workspace.from_config` の `path=` には、フォルダーだけでなく `config.json` のファイルそのものも指定できます。
`.azureml/config.json` を指定してワークスペースを開き、その **リソース グループ名** を `answer_1` に入れてください。
(ヒント: ワークスペースの `resource_group` 属性)
"""),
    ("code", r"""
# 演習 1: 下の None を書き換えてください
# 例: ws_from_file = Workspace.from_config(path=...)
answer_1 = None
"""),
    ("code", r"""
from amlhandson.exercises import check

check(answer_1, "docs-aml",
      hint='Workspace.from_config(path=".azureml/config.json") で開いたワークスペースの .resource_group を見てみましょう。');
"""),
    ("markdown", r"""
<details><summary>解答例</summary>

```python
ws_from_file = Workspace.from_config(path=".azureml/config.json")
answer_1 = ws_from_file.resource_group
```

`Found the config file in: .azureml/config.json` と表示され、`"docs-aml"` が得られます。

</details>

### 演習 2: `config.json` の中身

`config.json` に書かれているキーのうち、**ワークスペースの名前** を表すキーはどれでしょう? キーの名前を文字列で `answer_2` に入れてください。
(ヒント: 2 で表示した `config.json` の中身を見返しましょう)
"""),
    ("code", r"""
# 演習 2: 下の None を書き換えてください
answer_2 = None
"""),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, "workspace_name", hint="config.json の 3 つのキーのうち、最後のものです。");
"""),
    ("markdown", r"""
<details><summary>解答例</summary>

```python
answer_2 = "workspace_name"
```

ほかの 2 つは `subscription_id` と `resource_group` です。この 3 つがそろうと、ワークスペースが 1 つに決まります。

</details>
"""),
    ("markdown", r"""
## まとめ

- `Workspace.create(name=..., subscription_id=..., resource_group=..., location=..., exist_ok=True)` でワークスペースを作りました。
- `ws.write_config()` で `.azureml/config.json` を書き出し、`Workspace.from_config()` でそこから開けるようにしました。
  `from_config()` は今のフォルダーから上に向かって `config.json` を探します。
- `ws.get_details()` で詳細を見ました。このコースでは、ワークスペースのデータはすべて
  `~/.amlhandson/workspaces/docs-aml/docs-ws/` のフォルダーに入ります。
- `config.json` が見つからないと `ConfigNotFoundError` (`FileNotFoundError` の一種) になります。
  `write_config()` で作るか、`path=` で場所を指定すれば解決します。
- ハンズオンの Azure portal にあたる **AML Studio** のフォームからも、同じ規則でワークスペースを作れます (`%aml_studio`)。

## 次へ

次は [02-mnist-data.ipynb](02-mnist-data.ipynb) で、学習に使う MNIST のデータを用意します。
"""),
]
