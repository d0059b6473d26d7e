"""send_feedback without a ``routing`` parameter; writes its arguments to ``record_path``."""

import json


class E2eFeedbackNoRouting:
    def __init__(self, record_path):
        self.record_path = record_path

    def send_feedback(self, features, feature_names, reward, truth):
        with open(self.record_path, "w") as out:
            json.dump({"features": features.tolist(), "reward": reward, "truth": truth.tolist()}, out)
        return None
