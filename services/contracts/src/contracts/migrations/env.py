from aftersales_shared.migrations import run_env
from contracts.models import Base

run_env(Base.metadata)
