"""``TabularDataset``: rows read from delimited files (CSV), as in v1.

``take``, ``skip``, ``take_sample`` and ``random_split`` work on rows here (on
files for a :class:`FileDataset`). ``to_pandas_dataframe()`` needs pandas
(``pip install 'amlhandson[data]'``).

Example:
    >>> from amlhandson.core import Dataset
    >>> ds = Dataset.Tabular.from_delimited_files((datastore, "results/*.csv"))  # doctest: +SKIP
    >>> ds.take(5).to_pandas_dataframe()  # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..exceptions import UserErrorException
from ._selection import Selected, apply_file_transforms, select_files
from .abstract_dataset import AbstractDataset

__all__ = ["TabularDataset"]


class TabularDataset(AbstractDataset):
    """Rows of delimited files.

    Example:
        >>> ds.keep_columns(["k", "accuracy"]).to_pandas_dataframe()  # doctest: +SKIP
    """

    _KIND = "tabular"

    def _selected(self, validate: bool = True) -> list[Selected]:
        definition = {k: v for k, v in self._definition.items() if k != "transforms"}
        return select_files(definition, self._datastore, validate=validate)

    def fingerprint(self) -> str:
        """The files' fingerprint combined with the reading options and row transforms.

        Example:
            >>> len(ds.fingerprint())  # doctest: +SKIP
            64
        """
        from ._fingerprint import text_digest

        return text_digest([super().fingerprint(), self._definition.get("tabular", {}),
                            self._definition.get("transforms", [])])

    def keep_columns(self, columns: str | list[str]) -> TabularDataset:
        """Only the named columns.

        Example:
            >>> ds.keep_columns("accuracy")  # doctest: +SKIP
        """
        return self._with({"keep_columns": [columns] if isinstance(columns, str)
                           else list(columns)})

    def drop_columns(self, columns: str | list[str]) -> TabularDataset:
        """Every column except the named ones.

        Example:
            >>> ds.drop_columns(["Path"])  # doctest: +SKIP
        """
        return self._with({"drop_columns": [columns] if isinstance(columns, str)
                           else list(columns)})

    def to_pandas_dataframe(self, on_error: str = "null",
                            out_of_range_datetime: str = "null") -> Any:
        """All selected rows as a pandas ``DataFrame``.

        Example:
            >>> df = ds.to_pandas_dataframe()  # doctest: +SKIP
        """
        try:
            import pandas as pd
        except ImportError:
            raise UserErrorException("to_pandas_dataframe() には pandas が必要です: "
                                     "pip install 'amlhandson[data]'") from None
        options = self._definition.get("tabular", {})
        frames = []
        with tempfile.TemporaryDirectory() as tmp:
            for rel, path in self._local_files(self._selected(), Path(tmp)):
                frame = pd.read_csv(path, sep=options.get("separator", ","),
                                    header=0 if options.get("header", True) else None,
                                    encoding=options.get("encoding", "utf8"),
                                    dtype=None if options.get("infer_column_types", True)
                                    else str)
                if options.get("include_path"):
                    frame.insert(0, "Path", "/" + rel)
                frames.append(frame)
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
        for column, kind in options.get("column_types", {}).items():
            frame[column] = frame[column].astype(kind)
        rows = list(range(len(frame)))
        for step in self._definition.get("transforms", []):
            if "keep_columns" in step:
                _check_columns(frame, step["keep_columns"])
                frame = frame[step["keep_columns"]]
            elif "drop_columns" in step:
                _check_columns(frame, step["drop_columns"])
                frame = frame.drop(columns=step["drop_columns"])
            else:
                rows = apply_file_transforms(rows, [step], key=str)
        return frame.iloc[rows].reset_index(drop=True)


def _check_columns(frame: Any, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserErrorException(f"列 {missing} がありません (ある列: {list(frame.columns)})。")
