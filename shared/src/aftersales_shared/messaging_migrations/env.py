from aftersales_shared.migrations import run_messaging_env

run_messaging_env()
