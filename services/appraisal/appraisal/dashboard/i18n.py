"""Every label of the dashboard and the county report, in Chinese (default) and English.

Reason and exclusion messages come with the read API in both languages; this
module names only what the API leaves as codes or field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"

    @property
    def html(self) -> str:
        """The value of the page's `lang` attribute."""
        return "zh-CN" if self is Lang.ZH else "en"

    @classmethod
    def of(cls, value: str | None) -> Lang:
        """The language asked for by `?lang=`; Chinese unless English is asked for."""
        return cls.EN if (value or "").lower().startswith("en") else cls.ZH


Label = tuple[str, str]  # (Chinese, English)

LABELS: dict[str, Label] = {
    "app_title": ("一村一法律顾问考核", "Village legal advisor appraisal"),
    "dashboard": ("县（区）司法局考核看板", "County bureau dashboard"),
    "skip": ("跳到正文", "Skip to content"),
    "breadcrumbs": ("当前位置", "You are here"),
    "footer": ("页面数据均来自考核读取接口 /v1", "All figures come from the read API /v1"),
    "colon": ("：", ": "),
    "version_short": ("（第 {version} 版）", " (v{version})"),
    "switch_to": ("English", "中文"),
    "switch_title": ("Switch to English", "切换为中文"),
    "home": ("首页", "Home"),
    "login": ("登录", "Sign in"),
    "login_title": ("司法局用户登录", "Bureau sign-in"),
    "login_help": (
        "请粘贴本单位的访问令牌。令牌仅保存在本浏览器的安全 Cookie 中。",
        "Paste your bureau's access token. It is kept only in a secure cookie of this browser.",
    ),
    "token": ("访问令牌", "Access token"),
    "login_failed": ("令牌无效，请重新输入。", "The token is not valid; please try again."),
    "logout": ("退出登录", "Sign out"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "forbidden_title": ("无权访问", "Access denied"),
    "forbidden_text": (
        "您的令牌无权查看该县（区）的考核数据。",
        "Your token may not read the appraisals of this county.",
    ),
    "not_found_title": ("未找到", "Not found"),
    "not_found_text": (
        "没有找到所请求的考核数据。",
        "No appraisal data was found for this request.",
    ),
    "your_counties": ("可查看的县（区）", "Counties you may read"),
    "open_county": ("打开县（区）考核", "Open a county appraisal"),
    "county_id": ("县（区）代码", "County code"),
    "year": ("考核年度", "Year"),
    "open": ("打开", "Open"),
    "no_years": ("尚无考核数据", "No appraisal data yet"),
    "county_overview": ("县（区）考核概况", "County overview"),
    "county": ("县（区）", "County"),
    "status": ("状态", "Status"),
    "closed": ("年度已关闭（正式结论）", "Year closed (final verdicts)"),
    "provisional": ("年度未关闭（临时结果）", "Year open (provisional results)"),
    "policy_id": ("考核政策", "Policy"),
    "assignments_count": ("考核对象（顾问 × 村）", "Assignments (advisor × village)"),
    "advisors_count": ("法律顾问人数", "Advisors"),
    "villages_registered": ("登记村（社区）数", "Villages registered"),
    "subsidy_total": ("政府购买服务补贴合计（元）", "Government service subsidy total (yuan)"),
    "verdict_counts": ("考核结论统计", "Verdicts"),
    "grade_counts": ("考核等次统计", "Grades"),
    "count": ("数量", "Count"),
    "score_distribution": ("得分分布", "Score distribution"),
    "score_range": ("分数段", "Score range"),
    "villages_without_advisor": ("无法律顾问的村（社区）", "Villages without an advisor"),
    "advisors_over_load": ("超过服务村数上限的顾问", "Advisors over the village load limit"),
    "none": ("无", "None"),
    "all_assignments": ("全部考核对象", "All assignments"),
    "advisor": ("法律顾问", "Advisor"),
    "advisor_id": ("顾问编号", "Advisor id"),
    "name": ("姓名", "Name"),
    "village": ("村（社区）", "Village"),
    "village_id": ("村（社区）编号", "Village id"),
    "score": ("得分", "Score"),
    "grade": ("等次", "Grade"),
    "verdict": ("考核结论", "Verdict"),
    "subsidy": ("补贴（元）", "Subsidy (yuan)"),
    "version": ("结论版本", "Version"),
    "awards": ("评奖候选名单", "Award shortlists"),
    "reports": ("下载考核报表", "Download the county report"),
    "report_xlsx": ("Excel 报表（XLSX）", "Excel report (XLSX)"),
    "report_csv": ("考核结果（CSV）", "Assignments (CSV)"),
    "advisor_detail": ("法律顾问考核详情", "Advisor appraisal"),
    "advisor_score": ("顾问综合得分", "Advisor score"),
    "load_flagged": ("服务村数超过上限", "Serves more villages than the limit"),
    "assignment": ("考核对象", "Assignment"),
    "indicators": ("量化指标", "Indicators"),
    "indicator": ("指标", "Indicator"),
    "value": ("数值", "Value"),
    "requirement": ("要求", "Requirement"),
    "score_parts": ("得分构成", "Score breakdown"),
    "part": ("项目", "Part"),
    "points": ("得分", "Points"),
    "reasons": ("结论依据", "Reasons"),
    "no_reasons": ("未触发任何整改或调整规则。", "No rectify or replace rule fired."),
    "code": ("代码", "Code"),
    "message": ("说明", "Explanation"),
    "observed": ("实际值", "Observed"),
    "threshold": ("阈值", "Threshold"),
    "monthly_ledger": ("月度履职台账", "Monthly ledger"),
    "month": ("月份", "Month"),
    "active_days": ("在岗天数", "Days assigned"),
    "served": ("计入服务月", "Served"),
    "onsite_hours": ("现场服务时长（小时）", "On-site hours"),
    "raw_credit": ("非现场折抵（封顶前）", "Off-site credit (uncapped)"),
    "capped_credit": ("非现场折抵（封顶后）", "Off-site credit (capped)"),
    "has_onsite": ("有现场服务", "Had on-site duty"),
    "compliant": ("达标", "Compliant"),
    "requirement_line": ("每月要求 {hours} 小时", "Monthly requirement {hours} h"),
    "hours": ("小时", "hours"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "verdict_history": ("结论版本记录", "Verdict history"),
    "no_versions": (
        "年度关闭后才发布正式结论；目前尚无已发布的版本。",
        "Verdicts are issued when the year is closed; none has been issued yet.",
    ),
    "kind": ("类型", "Kind"),
    "issued_at": ("发布时间（北京时间）", "Issued at (Beijing time)"),
    "previous": ("变更前结论", "Previous verdict"),
    "caused_by": ("引起变更的事件数", "Events causing the change"),
    "award_eligibility": ("评奖资格", "Award eligibility"),
    "eligible": ("具备评奖资格", "Eligible for the awards"),
    "not_eligible": ("不具备评奖资格", "Not eligible for the awards"),
    "exclusions": ("排除原因", "Exclusion reasons"),
    "award_shortlist": ("评奖候选名单", "Award shortlist"),
    "rank": ("排名", "Rank"),
    "satisfaction_bayes": ("满意度（贝叶斯均值 b）", "Satisfaction (Bayesian mean b)"),
    "ratings": ("有效评价数", "Valid ratings"),
    "no_entries": ("没有符合条件的顾问。", "No advisor qualifies."),
    "tie_rule": (
        "排名依据：{value}；并列时依次比较满意度 b、有效评价数、"
        "首次聘任日期（早者优先）、顾问编号。",
        "Ranked by {value}; ties go to higher b, then more ratings, then earlier first "
        "appointment, then advisor id.",
    ),
    "excluded": ("未入选的顾问及原因", "Excluded advisors and why"),
    "rated_only": ("仅统计已评定的考核对象", "Rated assignments only"),
    "summary_sheet": ("概况", "Summary"),
    "assignments_sheet": ("考核结果", "Assignments"),
    "ledger_sheet": ("月度台账", "Ledgers"),
    "item": ("项目", "Item"),
    "closed_short": ("已关闭", "closed"),
    "provisional_short": ("临时", "provisional"),
    "provisional_col": ("临时结果", "Provisional"),
    "year_label": ("{year} 年度", "Year {year}"),
}

VERDICTS: dict[str, Label] = {
    "RETAIN": ("保留", "Retain"),
    "RECTIFY": ("整改", "Rectify"),
    "REPLACE": ("调整", "Replace"),
    "NOT_RATED": ("不予评定", "Not rated"),
}

GRADES: dict[str, Label] = {
    "EXCELLENT": ("优秀", "Excellent"),
    "COMPETENT": ("合格", "Competent"),
    "BASIC": ("基本合格", "Basic"),
    "FAIL": ("不合格", "Fail"),
}

AWARD_CATEGORIES: dict[str, Label] = {
    "social_responsibility": ("社会责任贡献奖", "Social Responsibility Contribution Award"),
    "public_welfare": ("公益爱心奖", "Public Welfare Award"),
}

# Sheet titles are limited to 31 characters.
AWARD_SHEETS: dict[str, Label] = {
    "social_responsibility": ("社会责任贡献奖", "Social responsibility award"),
    "public_welfare": ("公益爱心奖", "Public welfare award"),
}

# What an award's ranking `value` measures, per category (DESIGN §5).
AWARD_VALUES: dict[str, Label] = {
    "social_responsibility": ("公益服务时长（小时）", "Public-interest hours"),
    "public_welfare": ("顾问综合得分", "Advisor score"),
}

VERSION_KINDS: dict[str, Label] = {
    "issued": ("发布", "issued"),
    "amended": ("变更", "amended"),
}

# The 19 indicators of DESIGN §7.1, in the order of the contract.
INDICATORS: dict[str, Label] = {
    "months_served": ("服务月数 S", "Months served S"),
    "months_compliant": ("达标月数 C", "Compliant months C"),
    "onsite_hours": ("现场服务时长（小时）", "On-site hours"),
    "offsite_credit_hours": ("非现场服务折抵（小时）", "Off-site credit hours"),
    "lectures": ("法治讲座 L", "Lectures L"),
    "night_holiday_lectures": ("夜间及节假日讲座 LN", "Night/holiday lectures LN"),
    "mediations": ("人民调解 M", "Mediations M"),
    "consultations": ("法律咨询 Q", "Consultations Q"),
    "documents": ("代写法律文书 D", "Documents drafted D"),
    "committee_advice": ("村务法律意见 A", "Committee advice A"),
    "legal_aid_referrals": ("法律援助转介 R", "Legal-aid referrals R"),
    "responsiveness": ("及时答复率 ρ", "Responsiveness ρ"),
    "ratings": ("有效评价数 n", "Valid ratings n"),
    "rating_mean": ("评价平均分 r̄", "Mean rating r̄"),
    "satisfaction_bayes": ("满意度贝叶斯均值 b", "Bayesian satisfaction b"),
    "substantiated_complaints": ("查实投诉 K", "Substantiated complaints K"),
    "inspections": ("司法所检查次数", "Inspections recorded"),
    "inspections_passed": ("检查合格次数", "Inspections passed"),
    "public_interest_hours": ("公益服务时长（小时）", "Public-interest hours"),
}

# Which requirement (from the API's `requirements`) an indicator is measured against.
INDICATOR_REQUIREMENTS: dict[str, str] = {
    "lectures": "lectures",
    "night_holiday_lectures": "night_holiday_lectures",
    "mediations": "mediations",
    "consultations": "consultations",
    "committee_advice": "governance",
}

SCORE_PARTS: dict[str, Label] = {
    "duty_compliance": ("履职达标（30 分）", "Duty compliance (30)"),
    "lectures": ("法治讲座（10 分）", "Lectures (10)"),
    "mediations": ("人民调解（10 分）", "Mediations (10)"),
    "consultations": ("咨询与文书（10 分）", "Consultations and documents (10)"),
    "governance": ("村务治理（5 分）", "Governance (5)"),
    "responsiveness": ("及时答复（10 分）", "Responsiveness (10)"),
    "satisfaction": ("群众满意度（20 分）", "Satisfaction (20)"),
    "inspections": ("司法所检查（5 分）", "Inspections (5)"),
    "complaints": ("投诉扣分", "Complaint deductions"),
}

SUMMARY_ITEMS: dict[str, Label] = {
    "county_id": LABELS["county_id"],
    "year": LABELS["year"],
    "closed": LABELS["status"],
    "policy_id": LABELS["policy_id"],
    "assignments": LABELS["assignments_count"],
    "advisors": LABELS["advisors_count"],
    "villages_registered": LABELS["villages_registered"],
    "subsidy_total_yuan": LABELS["subsidy_total"],
    "villages_without_advisor": LABELS["villages_without_advisor"],
    "advisors_over_load_limit": LABELS["advisors_over_load"],
}

VOCABULARIES: dict[str, dict[str, Label]] = {
    "verdict": VERDICTS,
    "grade": GRADES,
    "award": AWARD_CATEGORIES,
    "award_sheet": AWARD_SHEETS,
    "award_value": AWARD_VALUES,
    "version_kind": VERSION_KINDS,
    "indicator": INDICATORS,
    "score_part": SCORE_PARTS,
    "summary": SUMMARY_ITEMS,
}


@dataclass(frozen=True, slots=True)
class Translator:
    """Labels and domain terms in one language; unknown codes are shown as they are."""

    lang: Lang

    def _pick(self, label: Label) -> str:
        return label[0] if self.lang is Lang.ZH else label[1]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._pick(LABELS[key])
        return text.format(**values) if values else text

    def term(self, vocabulary: str, code: str | None) -> str:
        if code is None:
            return "—"
        label = VOCABULARIES[vocabulary].get(code)
        return code if label is None else self._pick(label)

    def message(self, reason: dict[str, Any]) -> str:
        """A reason's or exclusion's explanation in this language."""
        return str(reason["message_zh" if self.lang is Lang.ZH else "message_en"])

    def yes_no(self, value: bool) -> str:
        return self("yes" if value else "no")
