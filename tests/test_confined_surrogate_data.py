"""The shipped confined-electrolyte data set (data/confined_electrolyte/) and the surrogate trained on it."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mdlearn.campaign import ResultStore
from mdlearn.campaign.confined import INPUTS, OUTPUTS
from mdlearn.ml import Surrogate
from mdlearn.ml.metrics import confidence_factor, fraction_within_error
from mdlearn.ml.train import train_and_report

DATA = Path(__file__).resolve().parent.parent / "data" / "confined_electrolyte"


def test_shipped_data_set_complete_and_consistent():
    table = ResultStore(DATA / "store").table()
    assert len(table) == 512 and (table["status"] == "ok").all()
    assert table["h"].between(3, 4).all() and table["c"].between(0.3, 0.9).all()
    assert table["d"].between(0.5, 0.75).all() and set(table["z_pos"]) == {1, 2, 3} and set(table["z_neg"]) == {-1}
    for k in OUTPUTS:
        assert (table[k] >= 0).all() and (table[f"{k}_err"] > 0).all()
    csv = pd.read_csv(DATA / "confined_electrolyte.csv")
    np.testing.assert_allclose(csv[list(INPUTS) + list(OUTPUTS)], table[list(INPUTS) + list(OUTPUTS)], rtol=1e-12)


def test_shipped_surrogate_reproduces_its_metrics():
    """The shipped model, on the held-out split train_and_report made (seed 0, 20%), scores what
    metrics.json says."""
    metrics = json.loads((DATA / "surrogate" / "metrics.json").read_text())
    table = ResultStore(DATA / "store").table()
    order = np.random.default_rng(metrics["seed"]).permutation(len(table))
    test = table.iloc[order[:metrics["n_test"]]]
    model = Surrogate.load(DATA / "surrogate" / "surrogate.npz")
    pred = model.predict(test[list(INPUTS)].to_numpy())
    y, e = test[list(OUTPUTS)].to_numpy(), test[[f"{k}_err" for k in OUTPUTS]].to_numpy()
    assert metrics["n_blocks"] == 10
    for name, k in (("within_2_error_bars", 2.0), ("within_95ci", confidence_factor(10))):
        assert fraction_within_error(y, pred, e, k).tolist() == [metrics[name][o] for o in OUTPUTS]


@pytest.mark.slow
def test_retrained_surrogate_accuracy(tmp_path):
    """Training again with the defaults reaches the reported accuracy: at least 90% of held-out predictions
    within the simulations' 95% confidence intervals (94% reported), 88% within two standard errors (92%), and
    an RMSE per output below 1.5 mean error bars."""
    m = train_and_report(ResultStore(DATA / "store").table(), INPUTS, OUTPUTS, tmp_path, curve_sizes=0, plot=False,
                         n_blocks=10, log=lambda _: None)
    assert m["within_95ci_all"] >= 0.90 and m["within_2_error_bars_all"] >= 0.88
    assert all(m["rmse"][k] < 1.5 * m["mean_error_bar"][k] for k in OUTPUTS)
