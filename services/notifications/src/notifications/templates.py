"""Message templates: Jinja2 in a sandbox with strict undefined, Chinese by default, English
available."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from aftersales_shared.events.tickets import COMPLAINT_LEVEL_ZH, COMPLAINT_TYPE_ZH

from .domain import LANGUAGES, RulesError, fit_sms

PARTS = ("sms", "subject", "text", "html")

LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "normal": "一般",
        "urgent": "紧急",
        "critical": "特急",
        "acknowledge": "受理",
        "response": "响应",
        "onsite": "到场",
        "resolution": "解决",
        "engineer": "工程师",
        "dealer": "经销商",
        "sales": "销售",
        # fault cause categories and corrective actions' owner departments (issue 19)
        "design": "设计",
        "material_supplier": "材料/供应商",
        "manufacturing_batch": "制造/批次",
        "transport": "运输",
        "installation": "安装",
        "misuse": "使用不当",
        "wear": "正常磨损",
        "unknown": "未知",
        "technical": "技术部",
        "delivery": "交付部门",
        "purchasing": "采购部",
        "service": "客服部",
        # complaint levels (投诉等级, issue 19) and types (投诉类型, issue 20)
        **COMPLAINT_LEVEL_ZH,
        **COMPLAINT_TYPE_ZH,
    },
    "en": {
        "normal": "normal",
        "urgent": "urgent",
        "critical": "critical",
        "acknowledge": "acknowledgement",
        "response": "response",
        "onsite": "on-site",
        "resolution": "resolution",
        "engineer": "engineer",
        "dealer": "dealer",
        "sales": "sales",
        "design": "design",
        "material_supplier": "material / supplier",
        "manufacturing_batch": "manufacturing / batch",
        "transport": "transport",
        "installation": "installation",
        "misuse": "misuse",
        "wear": "normal wear",
        "unknown": "unknown",
        "technical": "technical department",
        "delivery": "delivery",
        "purchasing": "purchasing",
        "service": "customer service",
        "general": "general",
        "major": "major",
        "serious": "serious",
        "product_quality": "product quality",
        "repair_quality": "repair quality",
        "timeliness": "timeliness",
        "service_attitude": "service attitude",
        "charges": "charges",
        "parts_supply": "parts supply",
        "delivery_installation": "delivery and installation",
        "other": "other",
    },
}


class TemplateDataError(Exception):
    """The event's data does not fit the template (missing value, wrong type)."""


@dataclass(frozen=True)
class Rendered:
    sms: str
    subject: str
    text: str
    html: str
    sms_params: dict[str, str]


class Templates:
    """All templates, compiled once at start; rendering raises TemplateDataError with a readable
    reason."""

    def __init__(self, raw: dict[str, Any], timezone: str = "Asia/Shanghai") -> None:
        self._tz = ZoneInfo(timezone)
        self._plain = self._env(autoescape=False)
        self._html = self._env(autoescape=True)
        self._compiled: dict[tuple[str, str, str], Any] = {}
        self._params: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        if not isinstance(raw, dict) or not raw:
            raise RulesError(
                "模板文件为空或格式错误 (templates file must map template names to languages)"
            )
        for name, spec in raw.items():
            if not isinstance(spec, dict):
                problems.append(f"{name}: must be a mapping")
                continue
            for lang in LANGUAGES:
                parts = spec.get(lang)
                if parts is None and lang != LANGUAGES[0]:
                    continue  # English is optional: the Chinese text is sent instead
                if not isinstance(parts, dict):
                    problems.append(f"{name}.{lang}: missing")
                    continue
                for part in PARTS:
                    source = parts.get(part)
                    if not isinstance(source, str) or not source.strip():
                        problems.append(f"{name}.{lang}.{part}: missing")
                        continue
                    env = self._html if part == "html" else self._plain
                    try:
                        self._compiled[(name, lang, part)] = env.from_string(source)
                    except TemplateError as exc:
                        problems.append(f"{name}.{lang}.{part}: {exc}")
            params = spec.get("sms_params", {})
            if not isinstance(params, dict):
                problems.append(f"{name}.sms_params: must map parameter names to expressions")
                continue
            try:
                self._params[name] = {k: self._plain.from_string(str(v)) for k, v in params.items()}
            except TemplateError as exc:
                problems.append(f"{name}.sms_params: {exc}")
        if problems:
            raise RulesError("模板无效 (invalid templates): " + "; ".join(problems))
        self.names = {name for name, _, _ in self._compiled}

    def _env(self, autoescape: bool) -> ImmutableSandboxedEnvironment:
        env = ImmutableSandboxedEnvironment(
            undefined=StrictUndefined, autoescape=autoescape, trim_blocks=True, lstrip_blocks=True
        )
        env.filters["dt"] = self._format_time
        env.filters["label"] = lambda value, lang="zh-CN": LABELS.get(lang, LABELS["zh-CN"]).get(
            getattr(value, "value", value), str(value)
        )
        return env

    def _format_time(self, value: Any) -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TemplateDataError(f"{value!r} is not a time")
        return value.astimezone(self._tz).strftime("%Y-%m-%d %H:%M")

    def render(
        self,
        name: str,
        lang: str,
        context: dict[str, Any],
        signature: str,
        sms_max_chars: int,
        channel: str | None = None,
    ) -> Rendered:
        """Render the parts one channel needs (all parts when channel is None)."""
        if (name, lang, "sms") not in self._compiled and (
            name,
            LANGUAGES[0],
            "sms",
        ) in self._compiled:
            lang = LANGUAGES[0]  # no English text for this template: the Chinese one
        ctx = {**context, "lang": lang}
        wanted = {
            "sms": ("sms",),
            "email": ("subject", "text", "html"),
            "wechat": ("sms", "subject"),  # a template message: title, the short text, the params
        }.get(channel or "", PARTS)
        try:
            parts = {
                part: self._compiled[(name, lang, part)].render(ctx).strip()
                if part in wanted
                else ""
                for part in PARTS
            }
            params = (
                {k: t.render(ctx).strip()[:35] for k, t in self._params.get(name, {}).items()}
                if "sms" in wanted
                else {}
            )
        except KeyError as exc:
            raise TemplateDataError(f"模板{name}/{lang}不存在 (no such template)") from exc
        except TemplateDataError:
            raise
        except Exception as exc:  # StrictUndefined, bad types in filters, sandbox refusals
            raise TemplateDataError(
                f"模板数据错误 (template data error in {name}/{lang}): {type(exc).__name__}: {exc}"
            ) from exc
        return Rendered(
            sms=fit_sms(parts["sms"], signature, sms_max_chars) if "sms" in wanted else "",
            subject=" ".join(parts["subject"].split()),
            text=parts["text"],
            html=parts["html"],
            sms_params=params,
        )


def load_yaml(path: Path | None, packaged: str) -> Any:
    """A YAML document from the given file, or the packaged default of that name."""
    return yaml_with_lines(path, packaged)[0]


def yaml_with_lines(path: Path | None, packaged: str) -> tuple[Any, list[int]]:
    """The document, and the line on which each item of its top-level `rules` list starts (for
    messages that say where a rule is wrong)."""
    try:
        if path is None:
            text = resources.files("notifications.defaults").joinpath(packaged).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        loader = yaml.SafeLoader(text)  # parsed once: the document and where its items start
        try:
            node = loader.get_single_node()
            doc = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"无法读取 {path or packaged} (cannot read): {exc}") from exc
    lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "rules" and isinstance(value, yaml.SequenceNode):
                lines = [item.start_mark.line + 1 for item in value.value]
    return doc, lines


def params_json(params: dict[str, str]) -> str:
    return json.dumps(params, ensure_ascii=False, separators=(",", ":"))
