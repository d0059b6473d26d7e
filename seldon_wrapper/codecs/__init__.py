"""Codecs: pure conversions between wire payloads and numpy, one module per format."""
