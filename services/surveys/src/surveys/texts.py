"""Texts of the public survey page in Chinese (default) and English."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, Any]] = {
    "zh-CN": {
        "html_lang": "zh-CN",
        "title": "售后服务满意度调查",
        "intro": "感谢您选择我们的售后服务。请就工单 {ticket_no} 的服务给我们打分，约需1分钟。",
        "customer": "客户",
        "dimensions": {"efficiency": "效率", "attitude": "态度", "professionalism": "专业性"},
        "dimension_hints": {
            "efficiency": "响应和解决问题是否及时",
            "attitude": "服务人员是否礼貌、耐心",
            "professionalism": "服务人员是否专业、问题是否彻底解决",
        },
        "scale": {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"},
        "required": "必填",
        "optional": "选填",
        "recommend": "您有多大可能向朋友或同事推荐我们？",
        "recommend_low": "0 = 完全不可能",
        "recommend_high": "10 = 非常可能",
        "recommend_none": "不作答",
        "comment": "意见或建议",
        "comment_hint": "最多 {max} 个字",
        "submit": "提交",
        "error_summary": "请修改以下问题后再提交：",
        "errors": {
            "required": "请选择一个分数",
            "not_integer": "请选择列表中的一个分数",
            "out_of_range": "分数超出范围，请在 {lo}–{hi} 之间选择",
            "too_long": "意见最多 {max} 个字，当前 {length} 个字",
            "control_chars": "意见中含有无法识别的字符",
        },
        "expires": "本链接有效期至 {expires}",
        "thanks_title": "提交成功，感谢您的反馈！",
        "thanks_body": "您的评价已记录。我们会认真对待每一条意见。",
        "thanks_low": "很抱歉这次服务没有让您满意，客服主管会尽快与您联系。",
        "answered_title": "该调查已提交",
        "answered_body": "这份调查已经提交过了，每个链接只能提交一次。感谢您的反馈！",
        "expired_title": "调查链接已过期",
        "expired_body": "这个调查链接已超过有效期。如需反馈，请拨打客服热线。",
        "unknown_title": "调查链接无效",
        "unknown_body": "找不到这个调查。请检查短信或邮件中的链接是否完整。",
        "not_open_title": "该调查当前不可填写",
        "not_open_body": "这份调查目前无法填写。如需反馈，请拨打客服热线。",
        "limited_title": "尝试次数过多",
        "limited_body": "来自您网络的无效链接过多，请在 {minutes} 分钟后再试。",
        "too_large_title": "提交内容过大",
        "too_large_body": "提交的内容超出了允许的大小，请缩短意见后重试。",
        "error_title": "页面暂时无法打开",
        "error_body": "服务器出现问题，请稍后再试。",
        "switch": "English",
    },
    "en": {
        "html_lang": "en",
        "title": "After-sales service satisfaction survey",
        "intro": (
            "Thank you for using our after-sales service. Please rate the service on ticket "
            "{ticket_no}; it takes about a minute."
        ),
        "customer": "Customer",
        "dimensions": {
            "efficiency": "Efficiency",
            "attitude": "Attitude",
            "professionalism": "Professionalism",
        },
        "dimension_hints": {
            "efficiency": "Was your request answered and solved in good time?",
            "attitude": "Were our staff polite and patient?",
            "professionalism": "Were our staff competent, and is the problem solved for good?",
        },
        "scale": {
            1: "Very dissatisfied",
            2: "Dissatisfied",
            3: "Neutral",
            4: "Satisfied",
            5: "Very satisfied",
        },
        "required": "required",
        "optional": "optional",
        "recommend": "How likely are you to recommend us to a friend or colleague?",
        "recommend_low": "0 = not at all likely",
        "recommend_high": "10 = extremely likely",
        "recommend_none": "No answer",
        "comment": "Comments or suggestions",
        "comment_hint": "at most {max} characters",
        "submit": "Submit",
        "error_summary": "Please correct the following before submitting:",
        "errors": {
            "required": "Please choose a score",
            "not_integer": "Please choose one of the listed scores",
            "out_of_range": "Score out of range: choose between {lo} and {hi}",
            "too_long": "Comments may have at most {max} characters; yours has {length}",
            "control_chars": "The comment contains characters that cannot be read",
        },
        "expires": "This link is valid until {expires}",
        "thanks_title": "Thank you for your feedback!",
        "thanks_body": "Your answers have been recorded. We read every comment.",
        "thanks_low": (
            "We are sorry the service did not satisfy you; a service supervisor will contact you "
            "soon."
        ),
        "answered_title": "Survey already answered",
        "answered_body": (
            "This survey has already been answered; each link can be used once. Thank you!"
        ),
        "expired_title": "Survey link expired",
        "expired_body": (
            "This survey link has expired. To give feedback, please call our service hotline."
        ),
        "unknown_title": "Survey link not valid",
        "unknown_body": (
            "We could not find this survey. Please check that the link from the SMS or email is "
            "complete."
        ),
        "not_open_title": "Survey not open",
        "not_open_body": (
            "This survey cannot be answered at the moment. Please call our service hotline."
        ),
        "limited_title": "Too many attempts",
        "limited_body": (
            "Too many invalid links came from your network. Please try again in {minutes} minutes."
        ),
        "too_large_title": "Submission too large",
        "too_large_body": (
            "What you sent is larger than allowed. Please shorten your comment and try again."
        ),
        "error_title": "Page not available",
        "error_body": "Something went wrong on our side. Please try again later.",
        "switch": "中文",
    },
}

# error code of the page → the title/body keys shown
STATE_PAGES = {
    "survey_already_answered": "answered",
    "survey_expired": "expired",
    "survey_token_unknown": "unknown",
    "survey_not_open": "not_open",
    "too_many_attempts": "limited",
    "request_too_large": "too_large",
}


def texts(language: str) -> dict[str, Any]:
    return TEXTS.get(language) or TEXTS["zh-CN"]


def field_error(language: str, code: str, field: str, limits: dict[str, int]) -> str:
    t = texts(language)["errors"]
    lo, hi = (0, 10) if field == "recommend" else (1, 5)
    return t.get(code, code).format(
        lo=lo,
        hi=hi,
        max=limits.get("comment_max_chars", ""),
        length=limits.get("comment_length", ""),
    )
