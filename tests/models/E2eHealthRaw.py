"""health_status_raw wins over health_status; init_metadata is invalid (versions not a list)."""


class E2eHealthRaw:
    def health_status_raw(self):
        return {"status": {"code": 503, "status": "FAILURE"}, "ready": False}

    def health_status(self):
        raise AssertionError("health_status must not be called when health_status_raw exists")

    def init_metadata(self):
        return {"name": "raw", "versions": "v1"}
