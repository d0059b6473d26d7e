"""Reports which process served a request (after sleeping X[0] seconds); records where __init__
and load() ran."""

import os
import time


class WorkerPidModel:
    def __init__(self, init_log, load_log):
        self.load_log = load_log
        with open(init_log, "a") as handle:
            handle.write(f"{os.getpid()}\n")

    def load(self):
        with open(self.load_log, "a") as handle:
            handle.write(f"{os.getpid()}\n")

    def predict(self, X, features_names):
        time.sleep(float(X.ravel()[0]))  # a busy worker leaves the next connection to the other one
        return [os.getpid()]
