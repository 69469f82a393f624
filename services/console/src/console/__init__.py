"""The console: the zh-CN web workspace over the services' HTTP APIs (owns no business data)."""
