"""The original's ``seldon_core.proto`` modules: re-exports of seldon-wrapper's generated code."""
