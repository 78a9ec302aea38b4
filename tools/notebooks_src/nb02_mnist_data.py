"""Source of notebooks/02-mnist-data.ipynb (see tools/build_notebooks.py)."""

NAME = "02-mnist-data"

CELLS = [
    ("markdown", r"""
# 02 MNIST のデータを用意する

データサイエンスのプロセスの 2 番目、**データの準備** です。このコースでは、手書き数字の画像データセット **MNIST** を使います。
このノートブックでは MNIST をダウンロードし、ファイルの中身を NumPy の配列として読み込み、学習に使いやすい形に整えます。

## 学習の目的

- MNIST がどんなデータか (枚数、画像の大きさ、ラベル) を説明できる
- `mnist.download("data")` でデータを用意し、フルセットか見本 (sample) かを確かめられる
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

そこでこのコースでは `amlhandson.datasets.mnist.download("data")` を使います。やることは同じ
(4 つのファイルを `data/train-images.gz` などの名前で保存する) ですが、次の工夫がしてあります。

1. **ミラーを順番に試す**: `mirrors=` で渡した場所 → 環境変数 `AMLHANDSON_MNIST_MIRROR` の場所 (講師のパソコンや USB メモリのフォルダーなど)
   → インターネット上の公開ミラー (`yann.lecun.com` は最後) の順に試し、だめなら次へ進みます。
   `AMLHANDSON_MNIST_NO_PUBLIC=1` を設定すると、インターネット上のミラーは使いません。
2. **中身を確かめる**: ダウンロードしたファイルが本物の MNIST と 1 バイトも違わないことを、チェックサム (SHA-256) で確かめます。
   一度確かめたファイルは覚えておくので、2 回目からは一瞬で終わります。
3. **見本で続けられる**: どこからも取れなかったときは、パッケージに同梱した **見本 (sample)**
   (本物の MNIST から数字の割合を保って選んだ訓練 6,000 枚・テスト 1,000 枚) を置き、警告を表示します。
   ハンズオンはそのまま進められますが、正解率などの数字は資料と少し変わります。
"""),
    ("markdown", r"""
## 3. ダウンロードする

このノートブックのあるフォルダー (`notebooks/`) の中の `data/` フォルダーに保存します。
戻り値は、4 つのファイルの場所を入れた辞書です。
"""),
    ("code", r"""
import time

from amlhandson.datasets import mnist

start = time.perf_counter()
paths = mnist.download("data")
print(f"かかった時間: {time.perf_counter() - start:.1f} 秒")
"""),
    ("code", r"""
for name, path in paths.items():
    print(f"{name:13s} {str(path):22s} {path.stat().st_size / 1e6:5.1f} MB")

if mnist.is_sample("data"):
    print("\n→ 同梱の見本 (sample) を使っています。講師のミラーがあれば、環境変数 AMLHANDSON_MNIST_MIRROR を設定して、もう一度実行してください。")
else:
    print("\n→ 完全な MNIST (フルセット) がそろいました。")
"""),
    ("markdown", r"""
`mnist.is_sample("data")` は、`data/` にあるのが見本なら `True`、フルセットなら `False` を返します。
ファイル名は、2019 年のハンズオンと同じ 4 つです。
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
sorted(path.name for path in paths.values())
"""),
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

with gzip.open("data/train-images.gz", "rb") as f:
    header = f.read(16)

print(header.hex(" ", 4))
print("枚数:", int.from_bytes(header[4:8], "big"))
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
magic = int.from_bytes(header[0:4], "big")
rows = int.from_bytes(header[8:12], "big")
cols = int.from_bytes(header[12:16], "big")
print("マジックナンバー:", magic, "/ 行数:", rows, "/ 列数:", cols)
"""),
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
フルセットなら 1 秒ほどかかります。
"""),
    ("code", r"""
from utils import load_data

# 画素の値 (0〜255) を 0〜1 に縮めておくと、モデルの学習が収束しやすくなります
X_train = load_data("data/train-images.gz", False) / 255.0
y_train = load_data("data/train-labels.gz", True).reshape(-1)

X_test = load_data("data/test-images.gz", False) / 255.0
y_test = load_data("data/test-labels.gz", True).reshape(-1)

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
# NBVAL_CHECK_OUTPUT
import numpy as np

print("1 枚あたりの画素数:", X_train.shape[1], "/ 画素の型:", X_train.dtype)
print("ラベルの種類:", np.unique(y_train), "/ ラベルの型:", y_train.dtype)
"""),
    ("markdown", r"""
## 6. 正規化: なぜ 255 で割るの?

割る前の値も見てみましょう。1 枚目の画像の真ん中あたり (縦 8 画素 × 横 8 画素) を表示します。0 が白、数字が大きいほど黒です。
"""),
    ("code", r"""
raw = load_data("data/train-images.gz", False)   # 255 で割る前 (uint8)
print(raw[0].reshape(28, 28)[10:18, 10:18])
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
print("割る前:", raw.dtype, raw.min(), "〜", raw.max())
print("割った後:", X_train.dtype, X_train.min(), "〜", X_train.max())
"""),
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

毎回 4 行書くのは大変なので、次のノートブックからは `mnist.load("data")` を使います。
上の 4 行と **まったく同じ配列** を返しますが、読み込んだ結果をファイル (`data/.cache/`) に保存しておくので、2 回目からはほぼ一瞬です。
(`load` はダウンロードはしません。先に `download` を呼んでおきます。ファイルがそろっていれば `download` はすぐ終わります。)
"""),
    ("code", r"""
start = time.perf_counter()
X_train2, y_train2, X_test2, y_test2 = mnist.load("data")
print(f"かかった時間: {time.perf_counter() - start:.2f} 秒")
"""),
    ("code", r"""
# NBVAL_CHECK_OUTPUT
same = (np.array_equal(X_train, X_train2) and np.array_equal(y_train, y_train2)
        and np.array_equal(X_test, X_test2) and np.array_equal(y_test, y_test2))
print("load_data の 4 行と同じ配列?", same)
"""),
    ("code", r"""
del X_train2, y_train2, X_test2, y_test2
"""),
    ("markdown", r"""
## 演習

### 演習 1: 1 枚の画像の画素数

MNIST の画像 1 枚は何画素 (ピクセル) でしょう? 数値を `answer_1` に入れてください。
計算で求めても、`X_train` の形から読み取ってもかまいません。
"""),
    ("code", r"""
# 演習 1: 下の None を書き換えてください
answer_1 = None
"""),
    ("code", r"""
from amlhandson.exercises import check

check(answer_1, 784, hint="画像は縦 28 画素 × 横 28 画素です。X_train.shape の 2 つ目の数も見てみましょう。");
"""),
    ("markdown", r"""
<details><summary>解答例</summary>

```python
answer_1 = 28 * 28          # または X_train.shape[1]
```

</details>

### 演習 2: 数字 7 は何枚?

**テストデータ** の中に、数字 7 の画像は何枚あるでしょう? NumPy を使って数え、`answer_2` に入れてください。
(ヒント: `y_test == 7` は、7 のところが `True` になる配列です。`True` は 1 として足し算できます)
"""),
    ("code", r"""
# 演習 2: 下の None を書き換えてください
answer_2 = None
"""),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, int((y_test == 7).sum()),
      hint="(y_test == 7).sum() で、y_test の中の 7 の数を数えられます。y_train ではなく y_test です。");
"""),
    ("markdown", r"""
<details><summary>解答例</summary>

```python
answer_2 = (y_test == 7).sum()
```

フルセットなら 1,028 枚、見本なら約 100 枚です。

</details>
"""),
    ("markdown", r"""
## まとめ

- MNIST は 28 × 28 画素の手書き数字 70,000 枚 (訓練 60,000 枚、テスト 10,000 枚) とそのラベル (0〜9) です。
- `mnist.download("data")` は、ミラーを順に試し、中身を確かめて、ハンズオンと同じ名前でファイルを保存します。
  どこからも取れなければ見本を置きます。どちらかは `mnist.is_sample("data")` でわかります。
- ファイルは IDX 形式で、ハンズオンの `utils.py` の `load_data` はヘッダーを読んでから画素を NumPy の配列にします。
- 画素を 255 で割って 0〜1 に **正規化** すると、学習が収束しやすくなります。
- 次からは `mnist.download("data")` と `mnist.load("data")` の 2 行でデータを用意します。

## 次へ

次は [03-visualize.ipynb](03-visualize.ipynb) で、読み込んだ画像を図にして眺めます。
"""),
]
