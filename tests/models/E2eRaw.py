"""Raw methods for the e2e tests; each answers its input's own dict (or proto) as it likes.

predict_raw, by the request's ``jsonData.mode``:
  none with ``data``  -> the request itself (echoed as-is)
  "metrics"           -> jsonData with meta.metrics and meta.tags
  "fail"              -> {"status": {"code": 400, "status": "FAILURE"}}
  "created"           -> a status code 201 with jsonData
  "list"              -> [1, 2, 3]
  strData             -> SeldonNotImplementedError (fall back to predict)
"""

from seldon_wrapper.errors import SeldonNotImplementedError
from seldon_wrapper.proto import prediction_pb2


class E2eRaw:
    def predict_raw(self, msg):
        json_data = msg.get("jsonData")
        mode = json_data.get("mode") if isinstance(json_data, dict) else None
        if mode == "metrics":
            return {
                "jsonData": {"ok": True},
                "meta": {
                    "metrics": [{"key": "raw_c", "type": "COUNTER", "value": 1}],
                    "tags": {"raw": "yes"},
                },
            }
        if mode == "fail":
            return {"status": {"code": 400, "status": "FAILURE"}}
        if mode == "created":
            return {"jsonData": {"created": True}, "status": {"code": 201, "status": "SUCCESS"}}
        if mode == "list":
            return [1, 2, 3]
        if "strData" in msg:
            raise SeldonNotImplementedError("predict_raw does not handle strData")
        return msg

    def predict(self, X, feature_names):
        return X.upper()

    def transform_input_raw(self, msg):
        return {"status": {"code": 400, "status": "FAILURE"}, "strData": "ti-raw", "got": msg}

    def route_raw(self, msg):
        return {"data": {"ndarray": [[5]]}, "meta": {"tags": {"by": "route_raw"}}}

    def aggregate_raw(self, msgs):
        return {"jsonData": {"received": msgs}}

    def send_feedback_raw(self, feedback):
        message = prediction_pb2.SeldonMessage(strData=f"{type(feedback).__name__} reward={feedback.reward}")
        message.meta.metrics.add(key="fb_raw", type=prediction_pb2.Metric.GAUGE, value=2)
        return message
