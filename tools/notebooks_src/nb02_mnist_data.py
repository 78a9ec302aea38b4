"""Source of notebooks/02-mnist-data.ipynb (see tools/build_notebooks.py)."""

NAME = "02-mnist-data"

CELLS = [
    ("markdown", r"""
# 02 MNIST のデータを用意する

データサイエンスのプロセスの 2 番目、**データの準備** です。このコースでは、手書き数字の画像データセット **MNIST** を使います。
このノートブックでは MNIST をダウンロードし、ファイルの中身を NumPy の配列として読み込み、学習に使いやすい形に整えます。

## 学習の目的

- MNIST がどんなデータか (枚数、画像の大きさ、ラベル) を説明できる
- `mnist.download()` でデータを用意し、どこに置かれたか、フルセットか見本 (sample) かを確かめられる
- 2019 年のハンズオンの `utils.py` にある `load_data` が、ファイルをどう読んでいるかがわかる
- 画素の値を 255 で割って 0〜1 にそろえる (正規化する) 理由がわかる

## 所要時間

約 15 分。時間のかかるセルは次の 2 つです (2 コアのパソコンでの目安)。

- ダウンロードのセル: 初回は回線しだいで数秒〜1 分。2 回目以降はファイルを確かめるだけなので 1 秒未満
- `load_data` で 4 つのファイルを読むセル: 約 1 秒
"""),
    ("markdown", r"""
## 1. MNIST とは

MNIST は、0 から 9 までの手書き数字を集めた、機械学習の入門で定番のデータセットです。

- 画像は **70,000 枚** あり、**訓練用 60,000 枚** と **テスト用 10,000 枚** に分かれています。
- 1 枚は **縦 28 × 横 28 画素** のグレースケール (白黒の濃淡) で、各画素は 0 (白) 〜 255 (黒) の整数です。
- 1 枚ごとに、書かれている数字 (0〜9) が **ラベル** として付いています。

配布ファイルは、訓練画像・訓練ラベル・テスト画像・テスト ラベルの 4 つで、どれも gzip で圧縮されています。
"""),
    ("markdown", r"""
## 2. 2019 年のやり方と、このコースのやり方

2019 年のハンズオンでは、`urllib.request.urlretrieve` で MNIST の作者のサイト `yann.lecun.com` から 4 つのファイルを直接ダウンロードし、
`./data/` フォルダーに `train-images.gz` などの短い名前で保存していました。おおまかには次のようなコードです (ここでは実行しません)。

```python
# 2019 年のハンズオンのやり方 (参考: このコースでは実行しません)
import os, urllib.request

os.makedirs("./data", exist_ok=True)
base = "http://yann.lecun.com/exdb/mnist/"
files = {"train-images.gz": "train-images-idx3-ubyte.gz", "train-labels.gz": "train-labels-idx1-ubyte.gz",
         "test-images.gz": "t10k-images-idx3-ubyte.gz", "test-labels.gz": "t10k-labels-idx1-ubyte.gz"}
for local_name, remote_name in files.items():
    urllib.request.urlretrieve(base + remote_name, filename="./data/" + local_name)
```

今はこのやり方をおすすめしません。理由は 2 つあります。

- **サイトが応答しないことがある**: 最近の `yann.lecun.com` は、プログラムからのダウンロードに `403 Forbidden` を返すことがよくあります。
- **教室の Wi-Fi**: 何十人もが同時に同じファイル (合計約 11 MB) を取りに行くと、回線が詰まります。

そこでこのコースでは `amlhandson.datasets.mnist.download()` を使います。やることは同じ
(4 つのファイルを `train-images.gz` などの名前で保存する) ですが、次の工夫がしてあります。

1. **ミラーを順番に試す**: `mirrors=` で渡した場所 → 環境変数 `AMLHANDSON_MNIST_MIRROR` の場所 (講師のパソコンや USB メモリのフォルダーなど)
   → インターネット上の公開ミラー (`yann.lecun.com` は最後) の順に試し、だめなら次へ進みます。
   `AMLHANDSON_MNIST_NO_PUBLIC=1` を設定すると、インターネット上のミラーは使いません。
2. **中身を確かめる**: ダウンロードしたファイルが本物の MNIST と 1 バイトも違わないことを、チェックサム (SHA-256) で確かめます。
   一度確かめたファイルは覚えておくので、2 回目からは一瞬で終わります。
3. **見本で続けられる**: どこからも取れなかったときは、パッケージに同梱した **見本 (sample)**
   (本物の MNIST から数字の割合を保って選んだ訓練 6,000 枚・テスト 1,000 枚) を置き、警告を表示します。
   ハンズオンはそのまま進められますが、正解率などの数字は資料と少し変わります。
4. **置き場所は 1 か所**: ハンズオンではノートブックの隣の `./data` に保存しました。それだと、ノートブックやコマンドを実行した
   フォルダーごとに別のコピーができてしまいます。このコースでは、どこから実行しても **`~/.amlhandson/datasets/mnist/`**
   (ワークスペースと同じ `~/.amlhandson` の中) に置きます。ターミナルの `amlhandson data mnist` や `amlhandson course` も同じ場所を使います。
"""),
    ("markdown", r"""
## 3. ダウンロードする

`mnist.data_dir()` が、このコースの MNIST の置き場所です。ハンズオンの `./data` の代わりに、この場所を変数 `data_folder` に入れて使います。
`mnist.download(data_folder)` の戻り値は、4 つのファイルの場所を入れた辞書です。
初めてなら、ファイルごとに進み具合のバーが表示されます (2 回目からは、確かめるだけなのですぐ終わります)。
"""),
    ("code", r"""
import time

from amlhandson.datasets import mnist

data_folder = mnist.data_dir()
start = time.perf_counter()
paths = mnist.download(data_folder)
print(f"かかった時間: {time.perf_counter() - start:.1f} 秒")
"""),
    ("markdown", r"""
`mnist.status()` は、置き場所にあるのがフルセットか見本 (sample) かを教えてくれます。ファイルの大きさも見てみましょう
(ラベルのファイルは 1 枚 1 バイトなので小さく、kB で表示します)。
"""),
    ("code", r"""
def size_text(n_bytes):
    # 1 MB 以上は MB、それより小さければ kB で表示します
    return f"{n_bytes / 1e6:5.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:5.1f} kB"


print("MNIST:", mnist.status(data_folder))
print()
for name, path in paths.items():
    print(f"{name:13s} {path.name:16s} {size_text(path.stat().st_size)}")
"""),
    ("markdown", r"""
見本 (sample) と表示されたら、講師のミラーがあるときは、ターミナルで `amlhandson data mnist --mirror http://<講師のIP>:8000/` を実行してから
このノートブックをやり直すと、フルセットになります (どのフォルダーで実行しても、同じ置き場所に入ります)。

ファイル名は、2019 年のハンズオンと同じ 4 つです。
"""),
    ("code", r"""
sorted(path.name for path in paths.values())
""", "nbval-check-output"),
    ("markdown", r"""
## 4. ファイルの中身をのぞく

ファイルは gzip で圧縮された **IDX 形式** です。先頭に「ヘッダー」という短い説明があり、そのあとに画素の値が 1 バイトずつ並んでいます。
ヘッダーの数値は、どれも 4 バイトの整数 (大きい桁が先の「ビッグエンディアン」) です。

| 位置 (バイト) | 画像ファイル | ラベル ファイル |
|---|---|---|
| 0〜3 | マジックナンバー 2051 (画像の印) | マジックナンバー 2049 (ラベルの印) |
| 4〜7 | 画像の枚数 | ラベルの件数 |
| 8〜11 | 行数 (28) | (ここからラベルが 1 バイトずつ) |
| 12〜15 | 列数 (28) | |
| 16〜 | 画素が 1 バイトずつ (枚数 × 28 × 28 個) | |

訓練画像のファイルの最初の 16 バイトを読んでみましょう。
"""),
    ("code", r"""
import gzip

with gzip.open(paths["train-images"], "rb") as f:
    header = f.read(16)

print(header.hex(" ", 4))
print("枚数:", int.from_bytes(header[4:8], "big"))
"""),
    ("code", r"""
magic = int.from_bytes(header[0:4], "big")
rows = int.from_bytes(header[8:12], "big")
cols = int.from_bytes(header[12:16], "big")
print("マジックナンバー:", magic, "/ 行数:", rows, "/ 列数:", cols)
""", "nbval-check-output"),
    ("markdown", r"""
## 5. `utils.py` の `load_data` で読み込む

2019 年のハンズオンでは、このヘッダーを読んで画素を NumPy の配列にする関数 `load_data` を `utils.py` というファイルに保存し、
ノートブックから `import` して使いました。このフォルダーにも同じ使い方ができる [utils.py](utils.py) を用意してあります。中身を表示してみましょう。
"""),
    ("code", r"""
from pathlib import Path

print(Path("utils.py").read_text(encoding="utf-8"))
"""),
    ("markdown", r"""
`load_data(filename, label=False)` の動きをまとめると、次のとおりです。

- `gzip.open` でファイルを開き、`struct.unpack(">II", ...)` でヘッダーの数値を読みます (`>` はビッグエンディアン、`I` は 4 バイトの整数)。
- `np.frombuffer` で残りのバイト列をそのまま `uint8` (0〜255 の整数) の配列にします。
- 画像なら `(枚数, 784)` に、ラベルなら `(件数, 1)` に形を変えて返します。784 は 28 × 28 で、1 枚の画像を 1 行に並べたものです。

では、ハンズオンと同じ 4 行で読み込みます。画像は `/ 255.0` で 0〜1 の小数にし、ラベルは `.reshape(-1)` で 1 列の配列にします。
ハンズオンの `'./data/train-images.gz'` のところは、置き場所 `data_folder` とファイル名を `os.path.join` でつないだものにします。
フルセットなら 1 秒ほどかかります。
"""),
    ("code", r"""
import os

from utils import load_data

# 画素の値 (0〜255) を 0〜1 に縮めておくと、モデルの学習が収束しやすくなります
X_train = load_data(os.path.join(data_folder, "train-images.gz"), False) / 255.0
y_train = load_data(os.path.join(data_folder, "train-labels.gz"), True).reshape(-1)

X_test = load_data(os.path.join(data_folder, "test-images.gz"), False) / 255.0
y_test = load_data(os.path.join(data_folder, "test-labels.gz"), True).reshape(-1)

print("Data loaded")
"""),
    ("markdown", r"""
`X` が画像 (入力)、`y` がラベル (正解) です。機械学習では、このように入力を大文字の `X`、正解を小文字の `y` と書くのが習慣です。
形 (shape) を確かめましょう。フルセットなら訓練 `(60000, 784)`、テスト `(10000, 784)` です (見本なら 6,000 と 1,000)。
"""),
    ("code", r"""
print("X_train:", X_train.shape, " y_train:", y_train.shape)
print("X_test: ", X_test.shape, " y_test: ", y_test.shape)
"""),
    ("code", r"""
import numpy as np

print("1 枚あたりの画素数:", X_train.shape[1], "/ 画素の型:", X_train.dtype)
print("ラベルの種類:", np.unique(y_train), "/ ラベルの型:", y_train.dtype)
""", "nbval-check-output"),
    ("markdown", r"""
## 6. 正規化: なぜ 255 で割るの?

割る前の値も見てみましょう。1 枚目の画像の真ん中あたり (縦 8 画素 × 横 8 画素) を表示します。0 が白、数字が大きいほど黒です。
"""),
    ("code", r"""
raw = load_data(os.path.join(data_folder, "train-images.gz"), False)   # 255 で割る前 (uint8)
print(raw[0].reshape(28, 28)[10:18, 10:18])
"""),
    ("code", r"""
print("割る前:", raw.dtype, raw.min(), "〜", raw.max())
print("割った後:", X_train.dtype, X_train.min(), "〜", X_train.max())
""", "nbval-check-output"),
    ("markdown", r"""
255 で割ると、すべての画素が 0.0〜1.0 の範囲に収まります。これを **正規化** (スケーリング) と呼びます。

- 04 で使うロジスティック回帰などの多くのアルゴリズムは、答えを少しずつ改良していく「反復計算」で学習します。
  入力の値が大きすぎたり、特徴ごとに範囲がばらばらだったりすると、この計算がなかなか落ち着きません (**収束しにくい**)。
- 0〜1 にそろえておくと、同じ回数の反復でもより良い答えに近づけます。
- どの画素も同じ「0〜255」の物差しなので、255 で割るだけで十分です。

`raw` はもう使わないので、メモリを空けておきます。
"""),
    ("code", r"""
del raw
"""),
    ("markdown", r"""
## 7. 次からは `mnist.load` の 1 行で

毎回 4 行書くのは大変なので、次のノートブックからは `mnist.load()` の 1 行を使います。引数を省くと、このコースの置き場所 (`mnist.data_dir()`) から読みます。
上の 4 行と **まったく同じ配列** を返しますが、読み込んだ結果を置き場所の中の `.cache/` に保存しておくので、2 回目からはほぼ一瞬です。
(`load` はダウンロードはしません。このノートブックの `download` でそろえたファイルを読みます。)
"""),
    ("code", r"""
start = time.perf_counter()
X_train2, y_train2, X_test2, y_test2 = mnist.load()
print(f"かかった時間: {time.perf_counter() - start:.2f} 秒")
"""),
    ("code", r"""
same = (np.array_equal(X_train, X_train2) and np.array_equal(y_train, y_train2)
        and np.array_equal(X_test, X_test2) and np.array_equal(y_test, y_test2))
print("load_data の 4 行と同じ配列?", same)
""", "nbval-check-output"),
    ("code", r"""
del X_train2, y_train2, X_test2, y_test2
"""),
    ("markdown", r"""
## 演習

演習のセルを書き換えて実行し、すぐ下のチェックのセルを実行します。詰まったらヒントを 1 つずつ開きましょう。
解答例は、この節の最後の「演習の解答例」にあります。

### 演習 1: ハンズオンの `load_data` でラベルを読む

ハンズオンの `load_data` を使って、**テスト用のラベル** のファイル (`test-labels.gz`) を自分で読み込み、
1 列の配列 (形が `(件数,)`) にして変数 `my_labels` に入れてください。
"""),
    ("code", r"""
# 演習 1: None を書き換えてください
my_labels = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check

check(my_labels, y_test, hint="load_data はラベルを (件数, 1) の形で返します。.reshape(-1) で 1 列にしましょう。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

5 の「4 行」のうち、テストのラベルを読む行と同じことをします。ファイルの場所は `data_folder` とファイル名をつないで作ります。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
my_labels = load_data(os.path.join(data_folder, ...), True)...
```

`True` はラベルのファイルだという印です。最後に形を 1 列に変えます。

</details>
""", "hint"),
    ("markdown", r"""
### 演習 2: 数字 7 は何枚?

**テストデータ** の中に、数字 7 の画像は何枚あるでしょう? NumPy を使って数え、**整数** を `answer_2` に入れてください。
"""),
    ("code", r"""
# 演習 2: None を書き換えてください
answer_2 = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, int((y_test == 7).sum()), hint="y_train ではなく y_test で数えます。7 と等しいところを数えましょう。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

`y_test == 7` は、7 のところが `True`、それ以外が `False` の配列になります。`True` は足し算では 1 として数えられます。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
answer_2 = (y_test == 7)...
```

配列の合計を求めるメソッドを付けます。

</details>
""", "hint"),
    ("markdown", r"""
## 演習の解答例

自分で解いてから見ましょう。
""", "solution"),
    ("code", r"""
my_labels = load_data(os.path.join(data_folder, "test-labels.gz"), True).reshape(-1)
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check

check(my_labels, y_test, hint="")
""", ("solution", "check", "nbval-check-output")),
    ("code", r"""
answer_2 = int((y_test == 7).sum())
print(answer_2)
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, int((y_test == 7).sum()), hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
フルセットなら 1,028 枚、見本なら約 100 枚です。
""", "solution"),
    ("markdown", r"""
## まとめ

- MNIST は 28 × 28 画素の手書き数字 70,000 枚 (訓練 60,000 枚、テスト 10,000 枚) とそのラベル (0〜9) です。
- `mnist.download()` は、ミラーを順に試し、中身を確かめて、ハンズオンと同じ名前でファイルを 1 か所 (`~/.amlhandson/datasets/mnist/`) に保存します。
  どこからも取れなければ見本を置きます。どちらかは `mnist.status()` でわかります。
- ファイルは IDX 形式で、ハンズオンの `utils.py` の `load_data` はヘッダーを読んでから画素を NumPy の配列にします。
- 画素を 255 で割って 0〜1 に **正規化** すると、学習が収束しやすくなります。
- 次からは `mnist.load()` の 1 行でデータを読み込みます。

## 次へ

次は [03-visualize.ipynb](03-visualize.ipynb) で、読み込んだ画像を図にして眺めます。
"""),
]
