"""Model for the batch processor e2e tests (tests/e2e/test_batch_processor.py).

predict answers ``X * 2``. Each row is ``[key, mode, value...]``; ``mode`` plans failures (a 500 on
REST, a gRPC error) so retries can be checked:
  0  never fails
  1  the first attempt for this key fails, later ones succeed
  2  every attempt fails
Attempts at rows with a mode are counted in ``<state_dir>/<key>.attempts`` (one byte each), which
every serving process shares.

send_feedback answers ``[[reward * 10]]``; a negative reward fails.
"""

import os


class BatchModel:
    def __init__(self, state_dir=""):
        self.state_dir = state_dir

    def predict(self, X, features_names, meta=None):
        for row in X:
            mode = int(row[1])
            if mode:
                path = os.path.join(self.state_dir, f"{int(row[0])}.attempts")
                with open(path, "ab") as attempts:
                    attempts.write(b".")
                if mode == 2 or os.path.getsize(path) == 1:
                    raise ValueError(f"planned failure for key {int(row[0])}")
        return X * 2

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        if reward < 0:
            raise ValueError("negative reward")
        return [[reward * 10]]
