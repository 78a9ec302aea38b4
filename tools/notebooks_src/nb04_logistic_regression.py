"""Source of notebooks/04-logistic-regression.ipynb (see tools/build_notebooks.py)."""

NAME = "04-logistic-regression"

CELLS = [
    ("markdown", r"""
# 04 ロジスティック回帰で数字を見分ける

データの準備ができたので、**実験** の段階に入ります。2019 年のハンズオンと同じく、scikit-learn の `LogisticRegression` で
MNIST の数字を分類するモデルを作り、テストデータで正解率を測ります。

## 学習の目的

- scikit-learn でモデルを作り (`fit`)、予測し (`predict`)、正解率を計算できる
- 2019 年と今の `LogisticRegression` の既定値の違いがわかる
- `ConvergenceWarning` (収束しなかったという警告) の意味と、その対処法がわかる
- 混同行列を描いて、モデルがどの数字をどの数字と間違えやすいかを読み取れる

## 所要時間

約 25 分。時間のかかるセルは次の 3 つです (2 コアのパソコンでの目安)。

- 「3. 学習する」のセル: 訓練データ 60,000 枚すべてで約 30 秒〜2 分 (見本データなら 10 秒ほど)
- 「5. 警告への対処を試す」のセル: 約 10〜40 秒
- 演習 1 の学習 (2,000 枚): 数秒

(ほかの重い処理が同時に動いていると、もっと長くかかります。)
"""),
    ("markdown", r"""
## 1. データを用意する

02 でそろえたデータを `mnist.load()` で読み込みます。
"""),
    ("code", r"""
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

from amlhandson.datasets import mnist

X_train, y_train, X_test, y_test = mnist.load()
print(f"訓練画像: {len(X_train):,} 枚 / テスト画像: {len(X_test):,} 枚")
"""),
    ("markdown", r"""
## 2. ロジスティック回帰とは

名前に「回帰」と付いていますが、ロジスティック回帰は **分類** (答えがカテゴリーのどれかになる問題) のためのモデルです。

1. 784 個の画素に、数字ごとの **重み** を掛けて足し合わせ、「0 らしさ」「1 らしさ」… 「9 らしさ」の 10 個の点数を出します。
2. 点数を、合計が 1 になる **確率** に変換します。
3. いちばん確率の高い数字を答えにします。

学習 (`fit`) とは、訓練データの正解をなるべく高い確率で当てられるように、この重みを少しずつ調整していく計算のことです。

### 2019 年と今の違い

`LogisticRegression()` と引数なしで書いたときの既定値は、scikit-learn のバージョン 0.22 (2019 年 12 月) で変わりました。

| | 2019 年のハンズオンのころ | 今 (このコース) |
|---|---|---|
| 計算の方法 (`solver`) | `liblinear` | `lbfgs` |
| 10 クラスの扱い方 | one-vs-rest: 「0 か、それ以外か」のような 2 択のモデルを 10 個作る | multinomial: 10 クラスを 1 つのモデルでまとめて扱う |
| 反復の上限 (`max_iter`) | 100 | 100 |
| 正解率 (全データ) | 0.9202 (※) | 約 0.926 (下で確かめます) |

※ 0.9202 は、2018 年の Azure Machine Learning の公式チュートリアル (MNIST の画像分類) に載っていた値です。
ハンズオンの資料そのものには、正解率の数値は書かれていません。

当時の設定は `OneVsRestClassifier(LogisticRegression(solver="liblinear"))` で再現できます。このコースを作るときに 2 コアのパソコンで試したところ、
全データの学習に約 2 分かかり、正解率は 0.9201 でした。時間がかかるので、このノートブックでは今の既定値を使います。
"""),
    ("markdown", r"""
## 3. 学習する

モデルを作り、`fit(X, y)` で学習させます。全データでは 30 秒〜2 分かかるので、セルの左が `[*]` の間は待ちましょう
(2019 年のハンズオンにも「数分かかることがあります」と書かれていました)。

このままだと、学習の途中で出る **警告** (ピンク色の枠のメッセージ) が長く表示されます。
ここでは `warnings.catch_warnings(record=True)` で警告をいったん受け止めて、最初の 1 行だけを表示するようにしています。
警告の中身は、このあと 5 でくわしく見ます。
"""),
    ("code", r"""
from sklearn.linear_model import LogisticRegression

clf = LogisticRegression()          # 今の既定値: solver="lbfgs", max_iter=100

start = time.perf_counter()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    clf.fit(X_train, y_train)
print(f"学習時間: {time.perf_counter() - start:.1f} 秒 / 反復の回数: {clf.n_iter_[0]}")

for w in caught:
    print(f"警告 {w.category.__name__}: {str(w.message).splitlines()[0]}")
"""),
    ("markdown", r"""
## 4. 正解率を測る

学習に使っていない **テストデータ** で予測させ (`predict`)、正解と比べます。学習に使ったデータで測ると、
答えを覚えているだけでも良い点が出てしまうので、必ず別のデータで測ります。

`y_hat == y_test` は、予測が当たったところが `True` になる配列です。`np.average` で平均すると `True` が 1、`False` が 0 として計算されるので、
**正解率** (accuracy) になります。
"""),
    ("code", r"""
y_hat = clf.predict(X_test)
print(np.average(y_hat == y_test))
"""),
    ("markdown", r"""
全データで学習したなら約 0.926 で、テスト画像の 92〜93% を正しく見分けられました。
784 個の画素に重みを掛けて足すだけの単純なモデルとしては、かなり良い結果です。
(見本データでは学習に使う枚数が少ないので、0.89 前後になります。)
"""),
    ("markdown", r"""
## 5. ConvergenceWarning とは

3 の学習で、次のような警告が出ていました。全文を表示してみましょう。
"""),
    ("code", r"""
from sklearn.exceptions import ConvergenceWarning

for w in caught:
    if issubclass(w.category, ConvergenceWarning):
        print(w.message)
"""),
    ("markdown", r"""
`lbfgs` は、重みを少しずつ改良していく **反復計算** で学習します。改良しても答えがほとんど変わらなくなった状態を **収束** と呼び、そこで計算を止めます。
この警告は「**反復の上限 (`max_iter=100` 回) に達したので、収束する前に止めました**」という意味です。

- これは **エラーではありません**。モデルはちゃんとできていて、予測にも使えます (上の正解率のとおり)。
- ただし、もう少し計算を続ければ、もっと良い重みになったかもしれません。「最後までやり切っていない」という注意です。

対処法は、警告のメッセージにも書かれているとおり、主に 3 つです。

1. **`max_iter` を増やす**: 例えば `LogisticRegression(max_iter=1000)`。収束するまで計算を続けます。そのぶん時間はかかります。
2. **データのスケールをそろえる**: 値の範囲をそろえると、少ない反復で収束しやすくなります。
   02 で 255 で割ったのもこのためです。さらに `sklearn.preprocessing.StandardScaler` で平均 0、分散 1 にそろえる方法もあります。
3. **solver を変える**: `saga`, `newton-cg`, `liblinear` など、別の計算方法を試します。データによって速さや収束のしやすさが違います。

ほかに、正則化を強くする (`C` を小さくする、例: `C=0.1`) と、重みが大きくなりにくくなり、収束が速くなることもあります。
"""),
    ("markdown", r"""
### 警告への対処を試す

全データで `max_iter` を増やすと時間がかかるので、訓練データの最初の 5,000 枚で試します。
`max_iter` を 100 と 300 にして学習させ、警告が出たかどうかと、実際の反復回数 (`n_iter_`) を比べます。約 10〜40 秒かかります。
"""),
    ("code", r"""
X_small, y_small = X_train[:5_000], y_train[:5_000]

for max_iter in (100, 300):
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught_small:
        warnings.simplefilter("always")
        model = LogisticRegression(max_iter=max_iter).fit(X_small, y_small)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught_small)
    accuracy = np.average(model.predict(X_test) == y_test)
    print(f"max_iter={max_iter}: 反復 {model.n_iter_[0]} 回, 警告 {'あり' if warned else 'なし'}, "
          f"正解率 {accuracy:.4f}, {time.perf_counter() - start:.1f} 秒")
"""),
    ("markdown", r"""
`max_iter=300` では、上限より前 (100 回を少し超えたところ) で収束し、警告が消えました。
正解率はほとんど変わりません。このデータでは、100 回の時点でもうほぼ収束していたということです。

警告が出たときは「反復の回数を増やしたら結果が良くなるか」を一度確かめ、時間と精度のバランスで決めるとよいでしょう。
"""),
    ("markdown", r"""
## 6. 混同行列: どの数字とどの数字を間違えた?

正解率は 1 つの数字にまとめた評価です。**どこで** 間違えたかを知るには、**混同行列** (confusion matrix) を描きます。

- 行が正解の数字、列がモデルの予測です。
- 対角線 (左上から右下) のマスは正しく当てた枚数、それ以外のマスが間違いの枚数です。
"""),
    ("code", r"""
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

cm = confusion_matrix(y_test, y_hat, labels=range(10))

fig, ax = plt.subplots(figsize=(7, 6))
ConfusionMatrixDisplay(cm, display_labels=range(10)).plot(ax=ax, cmap="Blues", colorbar=False)
ax.set_title(f"Confusion matrix (overall accuracy {np.average(y_hat == y_test):.4f})")
plt.show()
"""),
    ("markdown", r"""
対角線の数が大きすぎて、間違いのマスはどれも薄く見えます。対角線を 0 にして、**間違いだけ** を色で見てみましょう。
"""),
    ("code", r"""
errors = cm.copy()
np.fill_diagonal(errors, 0)

fig, ax = plt.subplots(figsize=(7, 6))
ConfusionMatrixDisplay(errors, display_labels=range(10)).plot(ax=ax, cmap="Reds", colorbar=False)
ax.set_title("Mistakes only (diagonal set to 0)")
plt.show()

order = np.argsort(errors, axis=None)[::-1][:5]
print("多い間違い トップ 5:")
for true_digit, predicted in zip(*np.unravel_index(order, errors.shape)):
    print(f"  正解 {true_digit} → 予測 {predicted}: {errors[true_digit, predicted]} 枚")
"""),
    ("markdown", r"""
当時の公式チュートリアル (MNIST の画像分類の、デプロイの部) の混同行列では、対角線以外でいちばん明るいマスは **(5, 3)**、
つまり「正解が 5 なのに 3 と予測した」でした (当時の既定値で全データを学習したモデル)。今の既定値で全データを学習したこのモデルでも、(5, 3) は上位 2 番目に入っています
(1 番目は 2 を 8 と間違えたもの)。学習に使う枚数が少ないと、順位は入れ替わります。
03 で見たとおり、5 と 3 は平均画像の下半分がよく似ていて、違いは上半分に集まっていました。

実際に 5 を 3 と間違えた画像を見てみましょう。
"""),
    ("code", r"""
mistaken = np.flatnonzero((y_test == 5) & (y_hat == 3))[:10]

fig, axes = plt.subplots(1, 10, figsize=(14, 1.9))
for ax in axes:
    ax.axis("off")
for ax, i in zip(axes, mistaken):
    ax.imshow(X_test[i].reshape(28, 28), cmap="Greys")
    ax.set_title("true 5 / pred 3", fontsize=9)
plt.show()
"""),
    ("markdown", r"""
人が見ればほとんどは 5 と読めますが、上の横棒が短い、縦棒が細いか離れている、全体が傾いている、といった字が目立ちます。
下半分だけを見ると 3 とよく似た形です。画素ごとの重みを足し合わせるだけのモデルでは、こうした「どこがつながっているか」という形の違いをとらえきれません。
(より良いモデルの一つが、05 で試す k 近傍法 (kNN) です。)
"""),
    ("markdown", r"""
## 演習

演習のセルを書き換えて実行し、すぐ下のチェックのセルを実行します。詰まったらヒントを 1 つずつ開きましょう。
解答例は、この節の最後の「演習の解答例」にあります。

### 演習 1: 自分でモデルを学習させる

訓練画像の **最初の 2,000 枚** (`X_train[:2000]` とそのラベル) で `LogisticRegression` を学習させ、学習したモデルを `my_clf` に入れてください。
チェックのセルは、あなたのモデルでテスト画像を予測して正解率を確かめ、反復が上限に達していない (収束した) ことも確かめます。
"""),
    ("code", r"""
# 演習 1: None を書き換えてください
my_clf = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check_classifier

check_classifier(my_clf, X_test, y_test, min_accuracy=0.8, require_converged=True,
                 hint="LogisticRegression() を作って、X_train[:2000] と y_train[:2000] で fit します。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

3 の「学習する」と同じ 2 段階です: モデルを作る → `fit(画像, ラベル)` で学習させる。使うのは最初の 2,000 枚だけです。
収束しないと言われたら、5 で見たとおり `max_iter` を増やします。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
my_clf = LogisticRegression(max_iter=...).fit(X_train[:2000], ...)
```

`fit` は学習したモデル自身を返すので、1 行でも書けます。

</details>
""", "hint"),
    ("markdown", r"""
### 演習 2: いちばん苦手な数字

数字ごとの正解率 (その数字の画像のうち、正しく当てられた割合) を混同行列 `cm` から計算して `per_digit` に入れ、
正解率が **いちばん低い数字** を `answer_2` に入れてください。
"""),
    ("code", r"""
# 演習 2: None を書き換えてください
per_digit = None
answer_2 = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, int(np.argmin(cm.diagonal() / cm.sum(axis=1))),
      hint="正しく当てた枚数 (対角線) を、その数字の画像の枚数 (行の合計) で割ります。")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

混同行列の行は正解の数字です。ある数字の行の合計がその数字の画像の枚数、その行の対角線のマスが正しく当てた枚数です。

</details>
<details><summary>ヒント 2 (書き出し)</summary>

```python
per_digit = cm.diagonal() / cm.sum(axis=...)   # 行ごとの合計は axis=1
answer_2 = int(np.arg...(per_digit))           # いちばん小さい値の位置
```

</details>
""", "hint"),
    ("markdown", r"""
### 演習 3: 警告への対処

`ConvergenceWarning` が出たときの対処として **効果がない** ものはどれでしょう? 記号を **文字列** で `answer_3` に入れてください。

- A: `max_iter` を増やす
- B: 入力データのスケールをそろえる (例: 255 で割る、`StandardScaler`)
- C: `solver` を変える
- D: テストデータの枚数を増やす
"""),
    ("code", r"""
# 演習 3: "A", "B", "C", "D" のどれかを入れてください
answer_3 = None
""", "exercise"),
    ("code", r"""
from amlhandson.exercises import check_choice

check_choice(answer_3, "D", hint="警告は学習 (fit) の計算についてのものです。学習に関係しないのはどれでしょう?")
""", "check"),
    ("markdown", r"""
<details><summary>ヒント 1 (考え方)</summary>

`ConvergenceWarning` は `fit` の中の反復計算が終わりきらなかった、という警告でした。テストデータは `fit` で使ったでしょうか?

</details>
<details><summary>ヒント 2 (答え方)</summary>

記号 1 文字を引用符で囲みます: `answer_3 = "?"`

</details>
""", "hint"),
    ("markdown", r"""
## 演習の解答例

自分で解いてから見ましょう。
""", "solution"),
    ("code", r"""
my_clf = LogisticRegression(max_iter=1000).fit(X_train[:2000], y_train[:2000])
print("反復の回数:", my_clf.n_iter_[0])
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check_classifier

check_classifier(my_clf, X_test, y_test, min_accuracy=0.8, require_converged=True, hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
2,000 枚では、収束までの反復が 100 回前後で、既定の上限 (`max_iter=100`) ぎりぎりです。上限のままだと
「反復が上限に達しています」と言われることがあるので、`max_iter` を増やします (`1000` は十分に大きい上限で、実際の反復は 100 回あまりです)。
正解率は 0.87 前後で、60,000 枚で学習した `clf` (約 0.926) より低くなります。データが多いほど良いモデルになる、という例です。
""", "solution"),
    ("code", r"""
per_digit = cm.diagonal() / cm.sum(axis=1)
print(np.round(per_digit, 3))
answer_2 = int(np.argmin(per_digit))
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check

check(answer_2, int(np.argmin(cm.diagonal() / cm.sum(axis=1))), hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
全データで学習したモデルでは 5 (約 88%) がいちばん低く、8 が僅差で続きます。0 と 1 は 97% 以上当たります。
""", "solution"),
    ("code", r"""
answer_3 = "D"
""", "solution"),
    ("code", r"""
from amlhandson.exercises import check_choice

check_choice(answer_3, "D", hint="")
""", ("solution", "check", "nbval-check-output")),
    ("markdown", r"""
テストデータは学習 (`fit`) に使わないので、枚数を変えても収束には関係ありません。A、B、C はどれも学習の計算を変えるので、効果があります。
""", "solution"),
    ("markdown", r"""
## まとめ

- `LogisticRegression()` を `fit` で学習させ、`predict` で予測し、`np.average(y_hat == y_test)` で正解率 (全データで約 0.926) を求めました。
- 既定値は 2019 年 (`liblinear`、one-vs-rest) から今 (`lbfgs`、multinomial) に変わっています。
- `ConvergenceWarning` は「反復の上限で止めた」という注意で、エラーではありません。
  `max_iter` を増やす、スケールをそろえる、`solver` を変える、で対処できます。
- 混同行列から、5 を 3 と間違えるような、似た数字どうしの間違いが多いことがわかりました。

ここまでの結果は、このノートブックの中に表示されているだけで、どこにも記録されていません。
設定を変えて何度も試すと、どの結果がどの設定だったか、すぐにわからなくなります。そこで使うのが、service の **実験** と **実行 (Run)** です。

## 次へ

次は [05-experiments.ipynb](05-experiments.ipynb) で、試行の結果をワークスペースに記録し、比べます。
"""),
]
