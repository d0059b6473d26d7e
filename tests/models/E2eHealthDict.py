"""health_status answers a dict, with tags() and metrics(); init_metadata overridden by MODEL_METADATA."""


class E2eHealthDict:
    def health_status(self):
        return {"status": "ok", "load": 0.5}

    def tags(self):
        return {"component": "health"}

    def metrics(self):
        return [{"type": "COUNTER", "key": "probes", "value": 1}]

    def init_metadata(self):
        return {
            "name": "user-name",
            "versions": ["user-version"],
            "platform": "user-platform",
            "custom": {"author": "user"},
        }
