"""MNIST の gzip ファイルを NumPy の配列として読む関数 (2019 年のハンズオンの utils.py).

ハンズオンでは、この関数を utils.py というファイルに保存し、ノートブックから
``from utils import load_data`` で読み込みました。このコースでも同じ使い方ができます
(MNIST の置き場所は ``mnist.data_dir()``、ふつうは ``~/.amlhandson/datasets/mnist``)::

    import os
    from amlhandson.datasets import mnist
    from utils import load_data

    data_folder = mnist.data_dir()
    X_train = load_data(os.path.join(data_folder, "train-images.gz"), False) / 255.0
    y_train = load_data(os.path.join(data_folder, "train-labels.gz"), True).reshape(-1)

MNIST のファイル (IDX 形式) の中身は次のとおりです。数値はすべて 4 バイトの
ビッグエンディアン (大きい桁が先) の整数です。

- 画像ファイル: マジックナンバー 2051、枚数、行数 (28)、列数 (28)、続いて画素が
  1 バイトずつ (0 = 白 ... 255 = 黒) 枚数 x 28 x 28 個
- ラベルファイル: マジックナンバー 2049、件数、続いてラベル (0 ... 9) が 1 バイトずつ

同じ読み込みは ``amlhandson.datasets.mnist.load_data`` にもあります。そちらは壊れた
ファイルを詳しく調べ、エラーメッセージで直し方を教えてくれます。ここでは中身が
読みやすいように、最小限の形で書いています。

Example:
    >>> X = load_data(os.path.join(data_folder, "train-images.gz"), False)  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((60000, 784), dtype('uint8'))
"""

from __future__ import annotations

import gzip
import struct

import numpy as np

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


def load_data(filename, label=False):
    """MNIST の gzip ファイルを 1 つ読み、NumPy の配列で返します。

    Args:
        filename: ``train-images.gz`` などのファイルのパス。
        label: 画像ファイルなら ``False``、ラベルファイルなら ``True``。

    Returns:
        画像なら ``(枚数, 784)``、ラベルなら ``(件数, 1)`` の uint8 配列。
        (ハンズオンの関数と同じく、読み取り専用の配列です。``/ 255.0`` などの
        計算をすると新しい配列ができます。)

    Raises:
        ValueError: ``label`` の指定がファイルの種類と合わないとき。
    """
    with gzip.open(filename, "rb") as gz:
        magic, count = struct.unpack(">II", gz.read(8))
        expected = LABEL_MAGIC if label else IMAGE_MAGIC
        if magic != expected:
            kind = "ラベル" if label else "画像"
            raise ValueError(
                f"{filename} は MNIST の{kind}ファイルではありません (マジックナンバー {magic})。"
                "画像ファイルには label=False、ラベルファイルには label=True を指定してください。"
            )
        if label:
            values = np.frombuffer(gz.read(count), dtype=np.uint8)
            return values.reshape(count, 1)
        rows, cols = struct.unpack(">II", gz.read(8))
        pixels = np.frombuffer(gz.read(count * rows * cols), dtype=np.uint8)
        return pixels.reshape(count, rows * cols)
