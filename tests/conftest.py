"""Shared pytest set-up: import tfvae first so TF/TFP load quietly."""

import tfvae  # noqa: F401
