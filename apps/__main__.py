"""`python -m apps` runs the `tfvae` command line."""

import sys

from apps.cli import main

sys.exit(main())
