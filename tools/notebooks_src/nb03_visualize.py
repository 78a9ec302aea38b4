"""Source of notebooks/03-visualize.ipynb (see tools/build_notebooks.py)."""

NAME = "03-visualize"

CELLS = [
    ("markdown", r"""
# 03 データを目で見る

モデルを作る前に、データを **目で見て** 確かめるのはとても大切です。読み込みに失敗していないか、ラベルは合っているか、
数字ごとの枚数にかたよりはないか、どんな書き方の数字があるのか。こうしたことを図で確かめておくと、あとで結果を読むときにも役立ちます。

## 学習の目的

- matplotlib で画像とラベルを並べて表示できる (2019 年のハンズオンの 30 枚の図)
- 数字ごとの枚数 (クラスのバランス) を数えてグラフにできる
- 数字ごとの「平均画像」を作り、数字ごとの特徴や、まぎらわしい数字の組を見つけられる

## 所要時間

約 10 分 (どのセルも数秒以内に終わります。2019 年のハンズオンでは 30 枚の図に「1〜2 分かかることがある」とありましたが、今のパソコンなら 1 秒ほどです)
"""),
    ("markdown", r"""
## 1. データを用意する

02 でそろえたデータを `mnist.load()` で読み込みます。まだデータがない (02 を実行していない) ときは、
何をすればよいかがエラーメッセージに表示されます (02 を実行するか、ターミナルで `amlhandson data mnist`)。
"""),
    ("code", r"""
import matplotlib.pyplot as plt
import numpy as np

from amlhandson.datasets import mnist

X_train, y_train, X_test, y_test = mnist.load()
print("訓練データ:", X_train.shape, "/ テストデータ:", X_test.shape)
"""),
    ("markdown", r"""
## 2. 30 枚を並べて表示する

2019 年のハンズオンと同じく、訓練データからランダムに 30 枚を選び、1 列に並べて、それぞれの上にラベル (正解の数字) を書きます。

- `np.random.default_rng(0)` は乱数の発生器です。`0` (シード) を決めておくと、何度実行しても同じ 30 枚が選ばれます。
  数字を変えると、別の 30 枚になります。
- 1 枚の画像は 784 個の数が 1 行に並んだものなので、`.reshape(28, 28)` で縦 28 × 横 28 に戻してから表示します。
- `cmap="Greys"` は、0 を白、1 を黒で描く色の指定です。
"""),
    ("code", r"""
rng = np.random.default_rng(0)
sample_size = 30
picked = rng.permutation(len(X_train))[:sample_size]

fig, axes = plt.subplots(1, sample_size, figsize=(16, 1.6))
for ax, i in zip(axes, picked):
    ax.imshow(X_train[i].reshape(28, 28), cmap="Greys")
    ax.set_title(str(y_train[i]), fontsize=16)
    ax.axis("off")
plt.show()
"""),
    ("markdown", r"""
ラベルと画像の数字が合っていることを確かめてください。同じ数字でも、太さ、傾き、形がずいぶん違うことがわかります。
なかには、人が見ても迷いそうな字もあります。

(グラフの中の文字は、どのパソコンでもフォントの問題が起きないよう、英語で書いています。)
"""),
    ("markdown", r"""
## 3. 数字ごとの枚数 (クラスのバランス)

分類の問題では、正解の種類を **クラス** と呼びます。MNIST のクラスは 0〜9 の 10 個です。
クラスごとの枚数が大きくかたよっていると、モデルは多いクラスばかり当てるようになりがちなので、最初に確かめておきます。

`np.bincount` は、0, 1, 2, … の値がそれぞれいくつあるかを数えます。
"""),
    ("code", r"""
train_counts = np.bincount(y_train, minlength=10)
test_counts = np.bincount(y_test, minlength=10)

print("数字  訓練の枚数 (割合)   テストの枚数 (割合)")
for digit in range(10):
    print(f"  {digit}   {train_counts[digit]:6,d} ({train_counts[digit] / len(y_train):5.1%})"
          f"   {test_counts[digit]:6,d} ({test_counts[digit] / len(y_test):5.1%})")
"""),
    ("code", r"""
digits = np.arange(10)
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.bar(digits - 0.2, train_counts / len(y_train), width=0.4, label="train")
ax.bar(digits + 0.2, test_counts / len(y_test), width=0.4, label="test")
ax.axhline(0.1, color="gray", linestyle="--", linewidth=1, label="10% (perfectly even)")
ax.set_xticks(digits)
ax.set_xlabel("digit")
ax.set_ylabel("share of images")
ax.set_ylim(0, 0.14)
ax.set_title("Class balance of MNIST")
ax.legend(loc="upper center", ncol=3)
plt.show()
"""),
    ("markdown", r"""
どの数字もおよそ 10% ずつで、大きなかたよりはありません。よく見ると 1 が少し多く (約 11%)、5 が少し少なめ (約 9%) です。
訓練とテストで割合がほぼ同じなのも大事な点です。テストデータが訓練データと同じような性質でないと、テストの結果を信用できないからです。
"""),
    ("markdown", r"""
## 4. 数字ごとの平均画像

同じ数字の画像をすべて重ねて平均すると、その数字の「典型的な形」が見えてきます。

`X_train[y_train == 3]` は、ラベルが 3 の画像だけを取り出したものです。`.mean(axis=0)` で、画素ごとに平均を取ります。
"""),
    ("code", r"""
mean_images = np.stack([X_train[y_train == digit].mean(axis=0).reshape(28, 28) for digit in range(10)])

fig, axes = plt.subplots(1, 10, figsize=(14, 1.9))
for digit, ax in enumerate(axes):
    ax.imshow(mean_images[digit], cmap="Greys")
    ax.set_title(f"mean {digit}")
    ax.axis("off")
plt.show()
"""),
    ("code", r"""
mean_images.shape
""", "nbval-check-output"),
    ("markdown", r"""
`(10, 28, 28)` は「28 × 28 の画像が 10 枚」という意味です。

ぼやけていますが、どれも数字として読めます。0 は太い輪、1 は細い縦線 (傾きがばらばらなので少し扇形)、といった特徴がわかります。
ぼやけ方が大きい数字ほど、人によって書き方がばらばらだということです。

### 3 と 5 を比べる

04 でモデルを作ると、**5 を 3 と間違える** ことが多いとわかります。平均画像の差を見ると、その理由が少し見えてきます。
`mean_images[5] - mean_images[3]` は、5 のほうが濃い画素で正 (赤)、3 のほうが濃い画素で負 (青) になります。
"""),
    ("code", r"""
difference = mean_images[5] - mean_images[3]
limit = np.abs(difference).max()

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
axes[0].imshow(mean_images[5], cmap="Greys")
axes[0].set_title("mean 5")
axes[1].imshow(mean_images[3], cmap="Greys")
axes[1].set_title("mean 3")
image = axes[2].imshow(difference, cmap="bwr", vmin=-limit, vmax=limit)
axes[2].set_title("5 minus 3 (red: 5, blue: 3)")
for ax in axes:
    ax.axis("off")
fig.colorbar(image, ax=axes[2], fraction=0.046)
plt.show()
"""),
    ("markdown", r"""
はっきり色が付いているのは **上半分** です。赤は 5 の左の縦棒と右上に伸びる横棒、青は 3 の上の丸みと真ん中のとがった部分です。
下半分の丸い部分は色が薄く、5 と 3 でよく似ています。違いが画像の一部に集まっているので、書き方によっては見分けにくくなるのです。
"""),
    ("markdown", r"""
## 演習

演習のセルを書き換えて実行し、すぐ下のチェックのセルを実行します。詰まったらヒントを 1 つずつ開きましょう。
解答例は、この節の最後の「演習の解答例」にあります。

### 演習 1: いちばん多い数字

**訓練データ** でいちばん枚数が多い数字はどれでしょう? 上で作った `train_counts` を使って **コードで** 求め、その数字 (0〜9 の整数) を `answer_1` に入れてください。
"""),
    ("code", r"""
# 演習 1: None を書き換えてください
answer_1 = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_1, int(np.argmax(np.bincount(y_train, minlength=10))),
      hint="train_counts の中で最大の値が、何番目 (= どの数字) にあるかを求めます。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

`train_counts[d]` は数字 `d` の枚数です。いちばん大きい値そのものではなく、その **位置** が答えの数字です。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

NumPy には、最大値の位置を返す関数があります: `answer_1 = int(np.arg...(train_counts))`

</details>
""", "hint"),
    ("markdown", r"""
### 演習 2: インクをいちばん使う数字

平均画像の画素の値をすべて足すと、その数字を書くのに使う「インクの量」の目安になります。
10 個の数字のインクの量を計算して変数 `ink` に入れ、いちばんインクを使う数字を `answer_2` に入れてください。
"""),
    ("code", r"""
# 演習 2: None を書き換えてください
ink = None
answer_2 = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, int(np.argmax(mean_images.sum(axis=(1, 2)))),
      hint="mean_images は (10, 28, 28) の配列です。数字ごとに 28 × 28 の画素を足します。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

`mean_images[d].sum()` で、数字 `d` の平均画像の合計がわかります。10 個まとめて計算するには、縦と横の 2 つの軸 (1 と 2) で足します。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
ink = mean_images.sum(axis=(1, 2))   # 10 個の合計
answer_2 = ...                        # 演習 1 と同じ考え方で
```

</details>
""", "hint"),
    ("markdown", r"""
## 演習の解答例

自分で解いてから見ましょう。
""", "solution"),
    ("code", r"""
answer_1 = int(np.argmax(train_counts))
print(answer_1)
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_1, int(np.argmax(np.bincount(y_train, minlength=10))), hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
答えは 1 です (フルセットでは 6,742 枚)。1 は書くのが簡単なので、集めたデータにも多く含まれていたのでしょう。
""", "solution"),
    ("code", r"""
ink = mean_images.sum(axis=(1, 2))
answer_2 = int(np.argmax(ink))
print(answer_2)
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, int(np.argmax(mean_images.sum(axis=(1, 2)))), hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
答えは 0 です。大きな輪を描くので、画素をたくさん使います。いちばん少ないのは、細い線 1 本の 1 です (`np.argmin(ink)`)。
""", "solution"),
    ("markdown", r"""
## まとめ

- 30 枚の画像とラベルを並べて、読み込みが正しいことと、手書きの多様さを確かめました。
- `np.bincount` でクラスごとの枚数を数えました。MNIST の 10 クラスはほぼ均等 (各 10% 前後) で、訓練とテストの割合もそろっています。
- 数字ごとの平均画像から、数字の典型的な形と、5 と 3 が似ていることがわかりました。

## 次へ

次は [04-logistic-regression.ipynb](04-logistic-regression.ipynb) で、いよいよモデルを学習させます。
"""),
]
