"""Collections workbench."""

import os

# OpenMP threads of scikit-learn's gradient boosting wait for work passively (sleeping) instead
# of spinning. On a busy 2-core machine spinning threads fight every other process: one fit of
# the risk model measured 155 s wall with the default policy against 5.5 s with PASSIVE, and
# 2.1 s against 29 s a minute later; on an idle machine the two are equal. libgomp reads the
# variable when scikit-learn first loads it, so it is set here, before any model import; a user
# who sets it keeps their value.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
