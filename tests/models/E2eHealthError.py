"""health_status raises; no init_metadata (the tests make MODEL_METADATA invalid)."""


class E2eHealthError:
    def health_status(self):
        raise RuntimeError("disk full")
