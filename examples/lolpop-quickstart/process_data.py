"""Data preparation for the quickstart, run by lolpop's LocalDataTransformer.

LocalDataTransformer loads this file (its `transformer_path`), reads the CSV
named in the runner config through its LocalDataConnector, and calls
`transform(data)` with the resulting DataFrame.
"""
import pandas as pd

FEATURES = ["x1", "x2"]
TARGET = "label"


def transform(data: pd.DataFrame, **kwargs) -> pd.DataFrame:
    # Incomplete rows cannot be placed relative to a centroid: drop them.
    data = data.dropna(subset=FEATURES + [TARGET]).copy()
    data[FEATURES] = data[FEATURES].astype(float)
    data[TARGET] = data[TARGET].astype(int)
    return data.reset_index(drop=True)
