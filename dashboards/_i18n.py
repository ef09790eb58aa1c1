"""The words najma shows people, in English and Arabic.

Names of services, activities and KPIs come from the catalogue and the KPI definitions.

Examples
--------
>>> text("stars", "ar")
'النجوم'
>>> direction("ar")
'rtl'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import pandas as pd

from najma.errors import InvalidEventLogError
from najma.journeys import OPTIONAL_COLUMNS, Store, previous_quarter
from najma.rating import (
    INSUFFICIENT_EVIDENCE,
    KPIS,
    MIXED,
    Advice,
    KpiMove,
    Provenance,
    RatingCard,
    RatingConfig,
    Shortfall,
    describe_plan,
    format_value,
)

__all__ = ["LANGUAGES", "text", "direction", "star_marks", "change_text", "number_text", "percent_text", "kpi_label",
           "move_text", "plan_sentence", "plan_text", "display_names", "missing_column_lines", "column_notes", "rating_text",
           "card_lines", "source_lines", "methodology", "utc_minute", "shortfall_text", "needs_text"]

LANGUAGES = ("en", "ar")

_TEXT: dict[str, tuple[str, str]] = {
    "report_title": ("Star ratings of government services", "تقييم الخدمات الحكومية بالنجوم"),
    "quarter": ("Quarter", "الربع"),
    "service": ("Service", "الخدمة"),
    "agency": ("Agency", "الجهة"),
    "cases": ("Cases", "الطلبات"),
    "stars": ("Stars", "النجوم"),
    "change": ("Change", "التغيير"),
    "score": ("Score", "الدرجة"),
    "efficiency": ("Efficiency", "الكفاءة"),
    "effectiveness": ("Effectiveness", "الفعالية"),
    "steps": ("Steps", "الخطوات"),
    "confidence": ("Confidence", "الثقة"),
    "new": ("new", "جديد"),
    "services_and_stars": ("Services and stars", "الخدمات ونجومها"),
    "star_distribution": ("Distribution of stars", "توزيع النجوم"),
    "journey_map": ("Journey map", "خريطة رحلة المتعامل"),
    "customer_steps": ("Customer steps per completed case", "خطوات المتعامل لكل طلب منجز"),
    "kpis_against_targets": ("KPIs against targets", "المؤشرات مقابل المستهدفات"),
    "kpi": ("KPI", "المؤشر"),
    "value": ("Value", "القيمة"),
    "target": ("Target", "المستهدف"),
    "points": ("Points", "النقاط"),
    "no_data": ("no data: needs", "لا توجد بيانات: يتطلب"),
    "no_data_short": ("no data", "لا توجد بيانات"),
    "no_column": ("no {column} column, needed by {needs}; map it with --map {key}=COLUMN",
                  "لا يوجد عمود {column}، وتحتاجه: {needs}؛ اربطه بالخيار \u2066--map {key}=COLUMN\u2069"),
    "cases_as_customers": ("no customer column: each case counts as its own customer (groups are counted in cases)",
                           "لا يوجد عمود المتعامل: كل طلب يُحسب متعاملاً مستقلاً (تُعدّ المجموعات بالطلبات)"),
    "column_start_timestamp": ("start time", "وقت البدء"),
    "column_customer_id": ("customer", "المتعامل"),
    "column_channel": ("channel", "القناة"),
    "column_agency": ("agency", "الجهة"),
    "column_resource": ("resource", "المنفّذ"),
    "column_satisfaction": ("satisfaction", "الرضا"),
    "column_cost": ("cost", "التكلفة"),
    "per_channel_ratings": ("per-channel ratings", "التقييمات حسب القناة"),
    "processing_time": ("processing time", "وقت المعالجة"),
    "rework_by_resource": ("repeats by the same resource", "التكرار من المنفّذ نفسه"),
    "no_completed": ("No completed cases: an outcome needs an approval role in the catalogue.",
                     "لا توجد طلبات منجزة: تتطلب النتيجة دور الموافقة في الدليل."),
    "no_deviations": ("No deviation is seen in {n} cases or more.", "لا يوجد انحراف في {n} طلبات أو أكثر."),
    "explanation": ("Explanation", "التفسير"),
    "since_last_quarter": ("Since last quarter", "منذ الربع السابق"),
    "next_star": ("Next star", "النجمة التالية"),
    "highest_star": ("The highest rating: no next star.", "أعلى تقييم: لا توجد نجمة تالية."),
    "no_advice": ("No change of the KPIs within their curves earns the next star.",
                  "لا يكفي تغيير المؤشرات ضمن منحنياتها لنيل النجمة التالية."),
    "insufficient": ("Insufficient data", "بيانات غير كافية"),
    "beyond_reach": ("beyond a quarter's reach", "أبعد مما يمكن تحقيقه في ربع سنة"),
    INSUFFICIENT_EVIDENCE: ("Insufficient evidence", "أدلة غير كافية"),
    "provisional": ("provisional", "مؤقت"),
    "remark": ("Remark", "ملاحظة"),
    "provisional_note": ("Provisional: the service's catalogue entry is still a draft (draft = true).",
                         "تقييم مؤقت: بيانات الخدمة في الدليل ما زالت مسودة (draft = true)."),
    "evidence_line": ("Stands on KPIs carrying {share} of the model's weight.",
                      "يستند إلى مؤشرات تحمل {share} من أوزان النموذج."),
    "shortfall": ("{pillar}: {share} of its weight has data, {needed} needed; no data: {kpis}",
                  "{pillar}: {share} من وزنه لها بيانات، والمطلوب {needed}؛ بلا بيانات: {kpis}"),
    "evidence_gap": ("Not rated: too little evidence. {gap}", "لم يُقيَّم: الأدلة غير كافية. {gap}"),
    "durations": ("Median time of completed cases: {hours} h, of which {working} working h.",
                  "الوقت الوسيط للطلبات المنجزة: {hours} ساعة، منها {working} ساعة عمل."),
    "durations_calendar": ("Median time of completed cases: {hours} h (no work calendar: calendar time).",
                           "الوقت الوسيط للطلبات المنجزة: {hours} ساعة (لا تقويم عمل: وقت تقويمي)."),
    "draft_ratings": ("Draft: {quarter} is not published; rated from the data as it stands today.",
                      "مسودة: لم يُنشر {quarter} بعد؛ قُيّم من البيانات كما هي اليوم."),
    "published_ratings": ("Published: {quarter} revision {revision}, data cut-off {cutoff}, by {by} on {at}.",
                          "منشور: {quarter} المراجعة {revision}، آخر بيانات {cutoff}، نشره {by} في {at}."),
    "rerated_ratings": ("{quarter} was published (revision {revision}, data cut-off {cutoff}); shown here re-rated "
                        "from the data as it stands today: a draft.",
                        "نُشر {quarter} (المراجعة {revision}، آخر بيانات {cutoff})؛ ويُعرض هنا مقيّماً من بيانات اليوم: مسودة."),
    "rerated_services": ("Not in the publication, so rated from today's data as drafts: {services}.",
                         "ليست في المنشور، فقُيّمت من بيانات اليوم مسوداتٍ: {services}."),
    "before_draft": ("The change compares with {quarter} rated today: it was not published.",
                     "يقارن التغيير مع {quarter} مقيّماً اليوم: لم يُنشر."),
    "before_published": ("The change compares with {quarter} as published.",
                         "يقارن التغيير مع {quarter} كما نُشر."),
    "mixed_channels": ("Several channels", "قنوات متعددة"),
    "coverage": ("Data coverage", "تغطية البيانات"),
    "quarantine": ("Quarantined rows", "الصفوف المعزولة"),
    "reason": ("Reason", "السبب"),
    "rows": ("Rows", "الصفوف"),
    "source": ("Source", "المصدر"),
    "no_quarantine": ("No row was quarantined.", "لم يتم عزل أي صف."),
    "model": ("Rating model", "نموذج التقييم"),
    "version": ("version", "الإصدار"),
    "config_hash": ("configuration hash", "بصمة الإعدادات"),
    "bootstrap": ("Probability of each star (bootstrap over cases)", "احتمال كل تقييم (إعادة المعاينة)"),
    "generated": ("Generated by najma from the event logs of the services.",
                  "أُعدّ بواسطة نجمة من سجلات أحداث الخدمات."),
    "missing_kpis": ("KPIs without data", "مؤشرات بلا بيانات"),
    # the dashboard
    "app_title": ("najma: star ratings of government services", "نجمة: تقييم الخدمات الحكومية بالنجوم"),
    "page_overview": ("Overview", "نظرة عامة"),
    "page_service": ("Service", "الخدمة"),
    "page_journeys": ("Customer journeys", "رحلات المتعاملين"),
    "page_redesign": ("Redesign", "إعادة التصميم"),
    "page_data": ("Data", "البيانات"),
    "other_language": ("العربية", "English"),
    "all_agencies": ("All agencies", "كل الجهات"),
    "all_channels": ("All channels", "كل القنوات"),
    "all_quarters": ("All quarters", "كل الأرباع"),
    "channel": ("Channel", "القناة"),
    "search": ("Search services", "ابحث عن خدمة"),
    "services_shown": ("services shown", "خدمات معروضة"),
    "trend": ("Stars over quarters", "النجوم عبر الأرباع"),
    "pillar_scores": ("Pillar scores", "درجات المحاور"),
    "kpis_by_pillar": ("KPIs by pillar", "المؤشرات حسب المحور"),
    "pillar": ("Pillar", "المحور"),
    "frequency": ("Frequency", "التكرار"),
    "performance": ("Median time", "الوقت الوسيط"),
    "abstraction": ("Share of the journey shown", "نسبة الرحلة المعروضة"),
    "variants": ("Variants", "المسارات"),
    "select_variants": ("Select variants (none = all)", "اختر المسارات (لا شيء = الكل)"),
    "variant_cases": ("Cases", "الطلبات"),
    "variant_steps": ("Median steps", "الخطوات الوسيطة"),
    "variant_duration": ("Median days", "الأيام الوسيطة"),
    "suppressed_variants": ("variants with fewer than {n} customers are not shown",
                            "لا تُعرض المسارات التي يقل متعاملوها عن {n}"),
    "too_few": ("Fewer than {n} customers: not shown, so that no one can be singled out.",
                "أقل من {n} متعاملين: لا يُعرض حتى لا يمكن تمييز أحد."),
    "fewer_than": ("fewer than {n} customers", "أقل من {n} متعاملين"),
    "merged_bins": ("bars of fewer than {n} customers are merged with the next",
                    "تُدمج الأعمدة التي يقل متعاملوها عن {n} مع العمود التالي"),
    "methodology": ("Methodology", "المنهجية"),
    "small_group_rule": (
        "Small groups: no table, chart or count describes a group of fewer than {n} customers (distinct customers; "
        "without a customer column each case counts as its own customer). Such a group shows no count, stars or KPIs "
        "and reads \u201cfewer than {n} customers\u201d; histogram bars below it are merged with the next, and "
        "activities and paths of a journey map below it are left out.",
        "المجموعات الصغيرة: لا يصف أي جدول أو رسم أو عدد مجموعة تضم أقل من {n} متعاملين (متعاملون مختلفون؛ وبلا عمود "
        "للمتعامل يُحسب كل طلب متعاملاً مستقلاً). لا تُعرض لمثل هذه المجموعة أعداد ولا نجوم ولا مؤشرات، ويُكتب "
        "\u00abأقل من {n} متعاملين\u00bb؛ وتُدمج أعمدة المدرّج التي تقل عن ذلك مع العمود التالي، وتُحذف من خريطة "
        "الرحلة الأنشطة والمسارات التي تقل عنه."),
    "evidence_rule": (
        "Evidence: a service is rated only when, in each pillar, the KPIs with data carry at least {share} of the "
        "weight of the pillar's KPIs that apply; otherwise it reads \u201cinsufficient evidence\u201d with what is "
        "missing. A KPI that cannot apply (a proactive start where the service cannot start proactively) takes no "
        "weight; one without data hands its weight to its pillar's other KPIs.",
        "الأدلة: لا تُقيَّم خدمة إلا إذا حملت مؤشراتها ذات البيانات في كل محور {share} على الأقل من أوزان مؤشرات "
        "المحور المنطبقة؛ وإلا كُتب \u00abأدلة غير كافية\u00bb مع بيان الناقص. المؤشر غير المنطبق (كالبدء الاستباقي "
        "لخدمة لا تبدأ استباقياً) لا وزن له؛ والمؤشر بلا بيانات ينقل وزنه إلى مؤشرات محوره الأخرى."),
    "confidence_rule": (
        "Confidence: the probability of the stars shown, from {draws} resamples of the cases; in each, a KPI without "
        "data scores anywhere from 0 to 100, so a rating that stands on little evidence has low confidence.",
        "الثقة: احتمال النجوم المعروضة من {draws} إعادة معاينة للطلبات؛ وفي كل منها يأخذ المؤشر الذي لا بيانات له "
        "أي درجة بين 0 و100، فيكون التقييم القائم على أدلة قليلة منخفض الثقة."),
    "time_rule": (
        "Time: with a work calendar in the catalogue, times against the SLA are working hours (the SLA is read in "
        "working hours); calendar time is shown beside. Steps and times count completed cases, rates ended ones.",
        "الوقت: مع تقويم عمل في الدليل تُقاس الأوقات مقابل مستوى الخدمة بساعات العمل (ويُقرأ مستوى الخدمة بساعات "
        "العمل)، ويُعرض الوقت التقويمي بجانبها. تُحسب الخطوات والأوقات على الطلبات المنجزة، والنسب على المنتهية."),
    "satisfaction_rule": (
        "Satisfaction counts only from {n} answers in a service and quarter; the response rate is shown beside.",
        "لا يُحتسب الرضا إلا ابتداءً من {n} إجابة للخدمة في الربع؛ وتُعرض نسبة الاستجابة بجانبه."),
    "publication_rule": (
        "Publication: a published quarter is a record (data cut-off, model, data fingerprint, who and when) that is "
        "never rewritten; rating it again makes a new revision with its differences. Ratings not published are "
        "drafts and say so.",
        "النشر: الربع المنشور سجل (آخر بيانات، النموذج، بصمة البيانات، الناشر والتاريخ) لا يُعاد كتابته؛ وإعادة "
        "تقييمه تُنشئ مراجعة جديدة بفروقها. والتقييمات غير المنشورة مسودات ويُذكر ذلك."),
    "selection_kpis": ("KPIs of the selected cases", "مؤشرات الطلبات المختارة"),
    "rating": ("Rating", "التقييم"),
    "rating_of": ("Rating of {quarter}", "تقييم {quarter}"),
    "probability": ("Probability", "الاحتمال"),
    "conformance": ("Against the designed journey", "مقابل الرحلة المصممة"),
    "fitness": ("Fitness", "المطابقة"),
    "fitting_share": ("Cases that fit", "الطلبات المطابقة"),
    "no_design": ("The catalogue gives no designed journey for this service.",
                  "لا يحدد الدليل رحلة مصممة لهذه الخدمة."),
    "deviation": ("Deviation", "الانحراف"),
    "skipped": ("skipped", "خطوة متروكة"),
    "inserted": ("inserted", "خطوة مضافة"),
    "repeated": ("repeated", "خطوة مكررة"),
    "activity": ("Activity", "النشاط"),
    "mean_time": ("Mean time", "متوسط الوقت"),
    "life_event": ("Life event", "مناسبة الحياة"),
    "journeys": ("Journeys", "الرحلات"),
    "customers": ("Customers", "المتعاملون"),
    "agencies_touched": ("Agencies per journey", "الجهات لكل رحلة"),
    "customer_steps_mean": ("Customer steps per journey", "خطوات المتعامل لكل رحلة"),
    "days_mean": ("Days per journey", "الأيام لكل رحلة"),
    "ask_once_share": ("Journeys asked again for data", "رحلات طُلبت فيها البيانات مجدداً"),
    "flows": ("From agency to service, service to service", "من الجهة إلى الخدمة، ومن خدمة إلى أخرى"),
    "ask_once_failures": ("Ask-once failures", "إخفاقات مبدأ الطلب لمرة واحدة"),
    "failures": ("Failures", "الإخفاقات"),
    "share": ("Share", "النسبة"),
    "no_life_events": ("The catalogue names no life events.", "لا يحدد الدليل مناسبات حياة."),
    "change_kind": ("Change", "التغيير"),
    "remove": ("Remove", "إزالة"),
    "merge": ("Merge", "دمج"),
    "automate": ("Automate", "أتمتة"),
    "move": ("Move to channel", "نقل إلى قناة"),
    "activities": ("Activities", "الأنشطة"),
    "merged_name": ("Name of the merged step", "اسم الخطوة المدمجة"),
    "add_change": ("Add to the plan", "أضف إلى الخطة"),
    "clear_plan": ("Clear the plan", "امسح الخطة"),
    "apply": ("Project the stars", "احسب النجوم المتوقعة"),
    "plan": ("Redesign plan", "خطة إعادة التصميم"),
    "empty_plan": ("No change yet: add one above.", "لا تغييرات بعد: أضف تغييراً أعلاه."),
    "today": ("Today", "اليوم"),
    "redesigned": ("Redesigned", "بعد إعادة التصميم"),
    "batches": ("Import batches", "دفعات الاستيراد"),
    "read": ("Read", "المقروءة"),
    "loaded": ("Loaded", "المحمّلة"),
    "repeats": ("Repeats", "التكرارات"),
    "repeats_hint": ("Events equal to an earlier event of the same file: kept as genuine repeats, as pm4py keeps them, "
                     "unless the load asked to quarantine them",
                     "أحداث مطابقة لحدث سابق في الملف نفسه: تُحفظ تكرارات حقيقية كما يحفظها pm4py، ما لم يُطلب عزلها عند التحميل"),
    "loaded_at": ("Loaded at", "وقت التحميل"),
    "column": ("Column", "العمود"),
    "first_row": ("First row", "أول صف"),
    "cases_per_quarter": ("Cases per service and quarter", "الطلبات لكل خدمة وربع"),
    "last_quarters": ("Quarters shown", "الأرباع المعروضة"),
    "unknown_service": ("No such service in the store: {name}", "لا توجد خدمة بهذا الاسم: {name}"),
    "needs_a_change": ("Choose activities for this change.", "اختر أنشطة لهذا التغيير."),
}


def text(key: str, lang: str) -> str:
    """The words for `key` in `lang` ("en" or "ar")."""
    if lang not in LANGUAGES:
        raise InvalidEventLogError(f"The 'lang' parameter must be one of {', '.join(LANGUAGES)}. Got {lang!r} instead.")
    return _TEXT[key][LANGUAGES.index(lang)]


def direction(lang: str) -> str:
    """The writing direction of `lang`: "rtl" for Arabic, else "ltr"."""
    return "rtl" if lang == "ar" else "ltr"


def star_marks(stars: object) -> str:
    """Stars as marks ("★★★★"); empty for a service not rated.

    Examples
    --------
    >>> star_marks(4), star_marks(None)
    ('★★★★', '')
    """
    return "" if stars is None or pd.isna(stars) else "★" * int(stars)


def rating_text(card: RatingCard, lang: str) -> str:
    """A card's stars as marks, marked provisional when its catalogue entry is a draft; else its status in `lang`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> rating_text(SimpleNamespace(rated=True, stars=4, provisional=True, status="rated"), "en")
    '★★★★ (provisional)'
    >>> rating_text(SimpleNamespace(rated=False, stars=None, provisional=False, status="insufficient evidence"), "en")
    'Insufficient evidence'
    """
    if not card.rated:
        return text(INSUFFICIENT_EVIDENCE if card.status == INSUFFICIENT_EVIDENCE else "insufficient", lang)
    marks = star_marks(card.stars)
    return f"{marks} ({text('provisional', lang)})" if card.provisional else marks


def shortfall_text(shortfall: Shortfall, lang: str) -> str:
    """A pillar short of evidence in `lang`: its share with data, the share needed, the KPIs without data.

    Examples
    --------
    >>> shortfall_text(Shortfall("efficiency", 1 / 3, 0.5, ("cost_per_transaction",)), "en")
    'Efficiency: 33% of its weight has data, 50% needed; no data: Cost per transaction'
    """
    return text("shortfall", lang).format(pillar=text(shortfall.pillar, lang), share=percent_text(shortfall.share),
                                          needed=percent_text(shortfall.needed),
                                          kpis=_LIST[lang].join(kpi_label(k, lang) for k in shortfall.lacking))


def card_lines(card: RatingCard, lang: str) -> list[str]:
    """What a reader must know of a card beside its stars: provisional, the evidence it stands on or lacks, durations."""
    lines = [text("provisional_note", lang)] if card.provisional else []
    if card.shortfalls:
        lines.append(text("evidence_gap", lang).format(gap="; ".join(shortfall_text(s, lang) for s in card.shortfalls)))
    elif card.evidence is not None:
        lines.append(text("evidence_line", lang).format(share=percent_text(card.evidence)))
    hours, working = card.rating.get("median_hours"), card.rating.get("median_working_hours")
    if hours is not None and not pd.isna(hours):
        lines.append(text("durations_calendar", lang).format(hours=f"{hours:.0f}") if pd.isna(working) else
                     text("durations", lang).format(hours=f"{hours:.0f}", working=f"{working:.0f}"))
    return lines


def methodology(config: RatingConfig, min_group: int, lang: str, draws: int = 200) -> list[str]:
    """The rules a reader of ratings must know, a paragraph each, in `lang` (the report's methodology).

    Examples
    --------
    >>> from najma.rating import default_config
    >>> methodology(default_config(), 10, "en")[0][:40]
    'Evidence: a service is rated only when, '
    """
    return [
        text("evidence_rule", lang).format(share=f"{config.min_evidence:.0%}"),
        text("confidence_rule", lang).format(draws=draws),
        text("time_rule", lang),
        text("satisfaction_rule", lang).format(n=config.min_answers),
        text("small_group_rule", lang).format(n=min_group),
        text("publication_rule", lang),
    ]


def utc_minute(value: object) -> str:
    """An instant as people read it, to the minute in UTC.

    Examples
    --------
    >>> utc_minute(pd.Timestamp("2025-10-03 13:05:59", tz="Asia/Dubai"))
    '2025-10-03 09:05 UTC'
    """
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def source_lines(provenance: Provenance, lang: str, names: Mapping[str, str] | None = None) -> list[str]:
    """Where a quarter's ratings come from: published (which revision, cut-off, by whom), today's drafts, or both;
    and what the change compares with. `names` are the services' display names."""
    quarter, record = provenance.quarter, provenance.publication
    if not record:
        lines = [text("draft_ratings", lang).format(quarter=quarter)]
    else:
        fields = {"quarter": quarter, "revision": int(record["revision"]), "by": record["published_by"],
                  "cutoff": utc_minute(record["cutoff"]), "at": utc_minute(record["published_at"])[:10]}
        lines = [text("rerated_ratings" if provenance.everything_rerated else "published_ratings", lang).format(**fields)]
        if provenance.rerated:
            listed = _LIST[lang].join((names or {}).get(s, s) for s in provenance.rerated)
            lines.append(text("rerated_services", lang).format(services=listed))
    before = previous_quarter(quarter)
    return [*lines, text("before_published" if provenance.before_published else "before_draft", lang).format(quarter=before)]


def change_text(change: object, lang: str) -> str:
    """A change of stars since last quarter: "+1", "-2", "=", or "new" (in `lang`) without a rating then.

    Examples
    --------
    >>> change_text(1, "en"), change_text(0, "en"), change_text(None, "ar")
    ('+1', '=', 'جديد')
    """
    if change is None or pd.isna(change):
        return text("new", lang)
    return "=" if change == 0 else f"{int(change):+d}"


def number_text(value: float | None) -> str:
    """A score with one decimal; empty without one.

    Examples
    --------
    >>> number_text(71.175), number_text(None), number_text(float("nan"))
    ('71.2', '', '')
    """
    return "" if value is None or pd.isna(value) else f"{value:.1f}"


def percent_text(value: float | None) -> str:
    """A probability in whole per cent; empty without one.

    Examples
    --------
    >>> percent_text(0.944), percent_text(None)
    ('94%', '')
    """
    return "" if value is None else f"{value:.0%}"


#: The mapping key (``--map KEY=COLUMN``) of each optional column, and the figures beyond the KPIs
#: that need it (the KPIs declare theirs in :attr:`najma.rating.Kpi.columns`).
_LIST = {"en": ", ", "ar": "، "}
_MAP_KEYS = {"start_timestamp": "start", "customer_id": "customer"}
_FIGURES_NEEDING = {"channel": ("per_channel_ratings",), "start_timestamp": ("processing_time",),
                    "resource": ("rework_by_resource",)}


def missing_column_lines(held: frozenset[str], lang: str) -> list[str]:
    """One line per optional column missing from `held` that a KPI or figure needs: what needs it and how to map it.

    Examples
    --------
    >>> missing_column_lines(frozenset(OPTIONAL_COLUMNS) - {"channel"}, "en")
    ['no channel column, needed by Digital take-up, Channel switches, per-channel ratings; map it with --map channel=COLUMN']
    """
    lines = []
    for column in OPTIONAL_COLUMNS:
        needs = [kpi_label(k, lang) for k, kpi in KPIS.items() if column in kpi.columns]
        needs += [text(figure, lang) for figure in _FIGURES_NEEDING.get(column, ())]
        if column in held or not needs:
            continue
        lines.append(text("no_column", lang).format(column=text(f"column_{column}", lang), needs=_LIST[lang].join(needs),
                                                    key=_MAP_KEYS.get(column, column)))
    return lines


def column_notes(held: frozenset[str], lang: str) -> list[str]:
    """What a reader of figures over data holding the columns `held` must know: how customers are counted, what is missing."""
    return ([] if "customer_id" in held else [text("cases_as_customers", lang)]) + missing_column_lines(held, lang)


#: What a KPI without data needs (:attr:`najma.rating.Kpi.needs`), in Arabic.
_NEEDS_AR = {
    "a channel column": "عمود القناة",
    "a cost column": "عمود التكلفة",
    "a designed journey in the catalogue": "رحلة مصممة في الدليل",
    "a proactive start role": "دور البدء الاستباقي",
    "a satisfaction column": "عمود الرضا",
    "a work calendar in the catalogue": "تقويم عمل في الدليل",
    "an SLA in the catalogue": "مستوى خدمة في الدليل",
    "an agency column": "عمود الجهة",
    "channels marked digital in the catalogue": "قنوات موسومة رقمية في الدليل",
    "completed cases": "طلبات منجزة",
    "customer steps": "خطوات المتعامل",
    "decision roles": "أدوار القرار",
    "enough survey answers": "إجابات كافية على الاستبيان",
    "start times or lifecycle transitions": "أوقات البدء أو مراحل دورة الحياة",
}


def needs_text(kpi: str, lang: str) -> str:
    """What `kpi` needs to have data, in `lang`.

    Examples
    --------
    >>> needs_text("cost_per_transaction", "en"), needs_text("cost_per_transaction", "ar")
    ('a cost column', 'عمود التكلفة')
    """
    needs = KPIS[kpi].needs
    return _NEEDS_AR[needs] if lang == "ar" else needs


def kpi_label(kpi: str, lang: str) -> str:
    """The name of a KPI in `lang`.

    Examples
    --------
    >>> kpi_label("median_customer_steps", "en")
    'Median customer steps'
    """
    return KPIS[kpi].label_ar if lang == "ar" else KPIS[kpi].label


def plan_sentence(plan: Sequence[Advice], config: RatingConfig, lang: str) -> str:
    """A next-star plan as one sentence in `lang`, e.g. "Cut median customer steps from 9 to 6 for 5 stars".

    Examples
    --------
    >>> from najma.rating import default_config
    >>> plan = [Advice("within_sla", 0.6, 0.774, 5, 0.3), Advice("visits", 1.0, 0.6, 5, 0.2)]
    >>> plan_sentence(plan, default_config(), "en")
    'Raise share within SLA from 60.0% to 77.4% and cut visits per case from 1.00 to 0.60 for 5 stars'
    >>> plan_sentence(plan, default_config(), "ar")
    'ارفع نسبة الإنجاز ضمن مستوى الخدمة من 60.0% إلى 77.4% وخفّض الزيارات لكل طلب من 1.00 إلى 0.60 لنيل 5 نجوم'
    """
    if lang != "ar":
        sentence = describe_plan(plan, config)
        return sentence[0].upper() + sentence[1:]
    changes = []
    for advice in plan:
        unit = KPIS[advice.kpi].unit
        verb = "خفّض" if config.kpis[advice.kpi].direction == "lower" else "ارفع"
        change = (f"{verb} {kpi_label(advice.kpi, lang)} من {format_value(advice.current, unit)} إلى "
                  f"{format_value(advice.needed, unit)}")
        changes.append(change if advice.within_reach else f"{change} ({text('beyond_reach', lang)})")
    return " و".join(changes) + f" لنيل {plan[0].stars} نجوم"


def move_text(move: KpiMove, lang: str) -> str:
    """A KPI's move since last quarter, with the points it moved the rating.

    Examples
    --------
    >>> move_text(KpiMove("median_customer_steps", 5.0, 4.0, 1.333), "en")
    'Median customer steps: 5 → 4 (+1.3)'
    """
    unit = KPIS[move.kpi].unit
    return f"{kpi_label(move.kpi, lang)}: {format_value(move.before, unit)} → {format_value(move.now, unit)} ({move.points:+.1f})"


def plan_text(card: RatingCard, config: RatingConfig, lang: str) -> list[str]:
    """What earns the next star, a sentence a line; or why nothing is proposed (not rated, the highest star, no
    change within the KPIs' curves)."""
    if not card.rated:
        return [rating_text(card, lang)]
    if card.at_highest_star:
        return [text("highest_star", lang)]
    return [plan_sentence(card.plan, config, lang)] if card.plan else [text("no_advice", lang)]


def display_names(store: Store, lang: str) -> dict[str, dict[str, str]]:
    """The names to show, in `lang`, from the registered catalogue; a name not given falls back to its key.

    Returns
    -------
    dict
        ``service``, ``agency``, ``activity``, ``channel``, ``life_event``: key to name; and
        ``service_agency``: service to the name of its agency.
    """
    arabic = lang == "ar"
    backend = store.backend

    def pairs(table: ibis.Table, key: str, name: str) -> dict[str, str]:
        return {row[key]: row[name] for row in table.select(key, name).to_pyarrow().to_pylist() if row[name]}

    column = "name_ar" if arabic else "name_en"
    settings, display = backend.table("service_settings"), backend.table("display_names")
    names = {
        "service": pairs(settings, "service", column),
        "activity": pairs(backend.table("activity_names"), "activity", "name_ar") if arabic else {},
        "channel": {MIXED: text("mixed_channels", lang),
                    **(pairs(backend.table("channel_settings"), "channel", "name_ar") if arabic else {})},
    }
    for kind in ("agency", "life_event"):
        names[kind] = pairs(display.filter(display.kind == kind), "key", column)
    agencies = pairs(settings, "service", "agency")
    names["service_agency"] = {service: names["agency"].get(agency, agency) for service, agency in agencies.items()}
    return names
