class PassthroughModel:
    """Echoes whatever the wrapper hands to ``predict_raw`` (raw bytes under PAYLOAD_PASSTHROUGH)."""

    def predict_raw(self, request):
        return request
