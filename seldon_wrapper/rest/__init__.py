"""REST front doors (Flask): the v1 SeldonMessage API and, beside it, V2."""
