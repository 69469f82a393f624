from aftersales_shared.migrations import run_env
from dealers.models import Base

run_env(Base.metadata)
