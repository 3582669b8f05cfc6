import sys

from surveymass.cli import main

sys.exit(main())
