"""gRPC front doors: the v1 ``seldon.protos`` services (and, beside them, V2)."""
