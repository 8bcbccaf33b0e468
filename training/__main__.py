"""`python -m training ...` (what torchrun launches): see `training.main.main`."""

from training.main import main

raise SystemExit(main())
