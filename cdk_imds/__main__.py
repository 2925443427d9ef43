"""``python -m cdk_imds`` is the ``cdk-imds`` command."""

import sys

from cdk_imds.cli import main

sys.exit(main())
