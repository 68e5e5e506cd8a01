"""QuickstartRunner: a small lolpop workflow that needs neither MLflow nor XGBoost.

It is assembled from lolpop's own parts, as configured in quickstart.yaml:
- runner: this class (a lolpop BaseRunner);
- pipeline `process`: lolpop's OfflineProcess, whose transform_data runs
  lolpop's LocalDataTransformer -> LocalDataConnector -> process_data.transform;
- components: StdOutLogger / StdOutNotifier (lolpop defaults) and
  BaseMetadataTracker (a no-op, so lolpop's default MLFlowMetadataTracker is
  never loaded).
The model is a nearest-centroid classifier written with pandas/numpy.

`build_all(min_accuracy=...)` is the entrypoint lolpop-deploy's generated
Prefect flow calls as `runner.build_all(**params)`: every run parameter must
be a keyword argument here. It raises when test accuracy < min_accuracy, so a
run can be made to fail on purpose.
"""
import numpy as np
import pandas as pd

from lolpop.runner.base_runner import BaseRunner
from lolpop.utils import common_utils as utils


# Like lolpop's built-in runners: log start/end of every public method and
# prefix errors with the method that raised them.
@utils.decorate_all_methods([utils.error_handler, utils.log_execution()])
class QuickstartRunner(BaseRunner):

    # Checked by lolpop when the runner is built (unless skip_config_validation).
    __REQUIRED_CONF__ = {
        "pipeline": ["process"],
        "component": [],
        "config": ["train_data", "test_data", "model_target"],
    }
    # Used when neither the config file nor the caller sets min_accuracy.
    __DEFAULT_CONF__ = {
        "config": {"min_accuracy": 0.8},
    }

    def __init__(self, problem_type="classification", *args, **kwargs):
        super().__init__(problem_type=problem_type, *args, **kwargs)

    def process_data(self, source="train", *args, **kwargs):
        """Loads and cleans `<source>_data` through the process pipeline."""
        data = self.process.transform_data(self._get_config("%s_data" % source))
        self.log("Loaded %d %s rows." % (len(data), source))
        return data

    def train_model(self, data, *args, **kwargs):
        """Nearest centroid: one mean feature vector per class."""
        target = self._get_config("model_target")
        features = [c for c in data.columns if c != target]
        centroids = data.groupby(target)[features].mean()
        self.log("Trained nearest-centroid model on features %s." % features)
        return {"features": features, "centroids": centroids}

    def evaluate_model(self, model, data, *args, **kwargs):
        """Returns the share of rows whose closest centroid is their label."""
        target = self._get_config("model_target")
        x = data[model["features"]].to_numpy()
        centroids = model["centroids"]
        # distance of every row to every centroid -> index of the closest one
        dist = np.linalg.norm(x[:, None, :] - centroids.to_numpy()[None, :, :], axis=2)
        predicted = centroids.index.to_numpy()[dist.argmin(axis=1)]
        return float((predicted == data[target].to_numpy()).mean())

    def build_all(self, min_accuracy=None, *args, **kwargs):
        """Process -> train -> evaluate; fails when accuracy < min_accuracy.

        min_accuracy defaults to `config.min_accuracy` (0.8 if unset). Other
        keyword parameters are accepted and logged, so extra run parameters
        do not break a run.
        """
        if min_accuracy is None:
            min_accuracy = self._get_config("min_accuracy")
        min_accuracy = float(min_accuracy)
        if kwargs:
            self.log("Ignoring unused parameters: %s" % sorted(kwargs))

        train = self.process_data("train")
        test = self.process_data("test")
        model = self.train_model(train)
        accuracy = self.evaluate_model(model, test)
        self.log("Test accuracy: %.3f (min_accuracy: %.3f)" % (accuracy, min_accuracy))

        if accuracy < min_accuracy:
            msg = "Test accuracy %.3f is below min_accuracy %.3f." % (accuracy, min_accuracy)
            self.notify(msg, "ERROR")
            raise ValueError(msg)
        return accuracy
