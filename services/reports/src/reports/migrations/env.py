from aftersales_shared.migrations import run_env
from reports.models import Base

run_env(Base.metadata)
