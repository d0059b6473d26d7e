"""Vendored TensorFlow protos (re-exported from seldon_wrapper.proto)."""
