"""A model class imported by dotted path: dotted_pkg.sub_mod.Inner."""


class Inner:
    def predict(self, X, features_names):
        return [["inner"]]
