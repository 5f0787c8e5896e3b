"""``python -m governance.offline DIR``: verify an exported bundle with no store."""

import sys

from governance.offline.bundle import main

sys.exit(main())
