"""``seldon-core-executor``: runs a SeldonDeployment's inference graph without the operator."""
