from aftersales_shared.migrations import run_env
from parts.models import Base

run_env(Base.metadata)
