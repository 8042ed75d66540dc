import sys

from fastx402.cli import main

sys.exit(main())
