"""Settings of the surveys service (env prefix SURVEYS_)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from aftersales_shared.settings import ServiceSettings


class SurveysSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURVEYS_", extra="ignore")
    service_name: ClassVar[str] = "surveys"
    default_port: ClassVar[int] = 8103
