"""A SeldonComponent subclass that overrides nothing: every default applies."""

from seldon_wrapper.component import SeldonComponent


class E2eComponentDefaults(SeldonComponent):
    pass
