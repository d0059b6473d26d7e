"""Transformer for the e2e tests: input x2 (takes meta), output x3 (no meta parameter).

A strData request to transform-input answers the meta it received as jsonData.
"""


class E2eTransformer:
    def transform_input(self, X, feature_names, meta=None):
        if isinstance(X, str):
            return {"meta_seen": meta}
        return X * 2

    def transform_output(self, X, feature_names):
        if isinstance(X, str):
            return X.upper()
        return X * 3
