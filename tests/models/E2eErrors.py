"""predict(X, names, meta=None) that fails on demand (strData names the failure).

"seldon"  -> SeldonMicroserviceException("msg", status_code=403, reason="X")
"value"   -> ValueError("boom")
"custom"  -> E2eCustomError, answered 402 by the model_error_handler blueprint
"type"    -> TypeError raised inside predict (counted in self.type_error_calls)
"calls"   -> jsonData {"type_error_calls": n}
jsonData  -> jsonData {"meta_seen": meta}
"""

from flask import Blueprint, jsonify

from seldon_wrapper.errors import SeldonMicroserviceException


class E2eCustomError(Exception):
    def __init__(self, message, application_error_code, http_status_code):
        super().__init__(message)
        self.message = message
        self.application_error_code = application_error_code
        self.status_code = http_status_code

    def to_dict(self):
        return {
            "status": {
                "status": self.status_code,
                "message": self.message,
                "app_code": self.application_error_code,
            }
        }


error_handlers = Blueprint("e2e_error_handlers", __name__)


@error_handlers.app_errorhandler(E2eCustomError)
def handle_custom_error(error):
    response = jsonify(error.to_dict())
    response.status_code = error.status_code
    return response


class E2eErrors:
    model_error_handler = error_handlers

    def __init__(self):
        self.type_error_calls = 0

    def predict(self, X, feature_names, meta=None):
        if isinstance(X, dict):
            return {"meta_seen": meta}
        if X == "seldon":
            raise SeldonMicroserviceException("msg", status_code=403, reason="X")
        if X == "value":
            raise ValueError("boom")
        if X == "custom":
            raise E2eCustomError("Test-Error-Msg", 1402, 402)
        if X == "type":
            self.type_error_calls += 1
            return len(None)
        if X == "calls":
            return {"type_error_calls": self.type_error_calls}
        return X
