"""A lolpop-style runner for the quickstart, using only the Python standard library.

lolpop's QuickstartRunner processes data, trains a model and evaluates it in
``build_all``; this one does the same on a tiny CSV with a nearest-centroid
classifier, so the example runs anywhere Python 3 does.
"""
import csv
import math
import os
import time


def parse_flat_yaml(path):
    """Reads the flat ``key: value`` subset of YAML that dev.yaml uses."""
    conf = {}
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if ":" not in line:
                raise ValueError("%s:%d: expected 'key: value', got %r" % (path, number, raw.rstrip()))
            key, value = (part.strip() for part in line.split(":", 1))
            conf[key] = parse_value(value)
    return conf


def parse_value(text):
    if text.startswith("[") and text.endswith("]"):
        return [parse_value(item.strip()) for item in text[1:-1].split(",") if item.strip()]
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip("'\"")


class QuickstartRunner:
    """Loads data, trains and evaluates a model, like lolpop's quickstart runner."""

    REQUIRED = ("target", "features", "train_data", "test_data")

    def __init__(self, conf, skip_config_validation=False):
        self.conf = parse_flat_yaml(conf) if isinstance(conf, str) else dict(conf)
        if not skip_config_validation:
            missing = [key for key in self.REQUIRED if key not in self.conf]
            if missing:
                raise ValueError("config %s is missing %s" % (conf, ", ".join(missing)))
        self.log("Loaded config %s (model %s)" % (conf, self.conf.get("model", "nearest_centroid")))

    def log(self, message):
        print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)

    def load(self, path):
        features, target = self.conf["features"], self.conf["target"]
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        data = [([float(row[name]) for name in features], row[target]) for row in rows]
        self.log("Read %d rows from %s" % (len(data), os.path.basename(path)))
        return data

    def train(self, data):
        """Per-class centroids of the standardised features."""
        columns = list(zip(*(x for x, _ in data)))
        self.means = [sum(c) / len(c) for c in columns]
        self.scales = [math.sqrt(sum((v - m) ** 2 for v in c) / len(c)) or 1.0 for c, m in zip(columns, self.means)]
        groups = {}
        for x, label in data:
            groups.setdefault(label, []).append(self.standardise(x))
        self.centroids = {label: [sum(c) / len(c) for c in zip(*xs)] for label, xs in groups.items()}
        self.log("Trained on %d rows: %d classes, features %s" % (len(data), len(groups), ", ".join(self.conf["features"])))

    def standardise(self, x):
        return [(v - m) / s for v, m, s in zip(x, self.means, self.scales)]

    def predict(self, x):
        z = self.standardise(x)
        return min(self.centroids, key=lambda label: sum((a - b) ** 2 for a, b in zip(z, self.centroids[label])))

    def evaluate(self, data):
        correct = sum(1 for x, label in data if self.predict(x) == label)
        accuracy = correct / len(data)
        self.log("Evaluated on %d rows: accuracy %.3f" % (len(data), accuracy))
        return accuracy

    def build_all(self, min_accuracy=None, **params):
        """Process, train and evaluate; fails when accuracy is below min_accuracy."""
        if params:
            self.log("Ignoring unknown parameters: %s" % ", ".join(sorted(params)))
        threshold = float(min_accuracy if min_accuracy is not None else self.conf.get("min_accuracy", 0.0))
        self.log("Starting build_all")
        self.train(self.load(self.conf["train_data"]))
        accuracy = self.evaluate(self.load(self.conf["test_data"]))
        if accuracy < threshold:
            raise RuntimeError("accuracy %.3f is below min_accuracy %.3f" % (accuracy, threshold))
        self.log("Model accepted (accuracy %.3f >= %.3f)" % (accuracy, threshold))
        return accuracy
