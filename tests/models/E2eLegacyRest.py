"""Deprecated predict_rest: wins over predict_raw and predict; its answer is returned as-is."""


class E2eLegacyRest:
    def predict_rest(self, request):
        if request.get("strData") == "teapot":
            return {"status": {"code": 418, "status": "FAILURE"}}
        return {"legacy": True, "got": request}

    def predict_raw(self, msg):
        raise AssertionError("predict_raw must not be called when predict_rest exists")

    def predict(self, X, feature_names):
        raise AssertionError("predict must not be called when predict_rest exists")
