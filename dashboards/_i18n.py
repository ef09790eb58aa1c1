"""The words najma shows people, in English and Arabic.

Names of services, activities and KPIs come from the catalogue and the KPI definitions.

Numbers and dates in Arabic
---------------------------
Arabic pages write numbers in Western digits (0-9) with "," for thousands and "." for decimals,
as the UAE government's own Arabic sites (u.ae, the ministries, the service-excellence programme)
do, and as its style guides for government sites ask. So a number reads the same in both
languages, the grids format it with the same d3 formatters (:mod:`najma.dashboards.pages.common`),
the report and the screen agree, and a figure copied from an Arabic page pastes as a number.
What changes with the language is the words around numbers: quarters (:func:`quarter_text`:
"2025Q4" is "الربع الرابع 2025"), instants (:func:`utc_minute`), units, and the grids' own words
(:func:`grid_locale`). Babel was weighed for this and left out: with Western digits all it would
give is four ordinal words and the name of UTC, not worth a dependency and its locale data.

Examples
--------
>>> text("stars", "ar")
'النجوم'
>>> direction("ar")
'rtl'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import ibis
import pandas as pd

from najma.errors import InvalidEventLogError, InvalidParameterError
from najma.journeys import OPTIONAL_COLUMNS, Store, previous_quarter, quarter_name
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

__all__ = ["LANGUAGES", "text", "listed", "direction", "star_marks", "change_text", "number_text", "percent_text", "kpi_label",
           "move_text", "plan_sentence", "plan_text", "display_names", "missing_column_lines", "column_notes", "rating_text",
           "card_lines", "source_lines", "methodology", "utc_minute", "shortfall_text", "needs_text", "quarter_text",
           "period_text", "grid_locale"]

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
                         "تقييم مؤقت: بيانات الخدمة في الدليل ما زالت مسودة (\u2066draft = true\u2069)."),
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
    "survey_rates": (
        "Survey answers: {answered} of {journeys} journeys answered ({response}); {linked} of {answers} answers linked "
        "to a journey ({link}).",
        "إجابات الاستبيان: أُجيب عن {answered} من {journeys} رحلة ({response})؛ ورُبطت {linked} من {answers} إجابة "
        "برحلة ({link})."),
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
    "extra_days": ("Days added by deviating (median)", "الأيام الزائدة عند الانحراف (الوسيط)"),
    "no_design": ("The catalogue gives no designed journey for this service.",
                  "لا يحدد الدليل رحلة مصممة لهذه الخدمة."),
    "deviation": ("Deviation", "الانحراف"),
    "skipped": ("skipped", "خطوة متروكة"),
    "inserted": ("inserted", "خطوة مضافة"),
    "repeated": ("repeated", "خطوة مكررة"),
    "moved": ("out of order", "خطوة في غير ترتيبها"),
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
    # The redesign page (REDESIGN, issue 22).
    "needs_two": ("A merge needs two activities or more.", "يحتاج الدمج إلى نشاطين أو أكثر."),
    "needs_channel": ("Choose the channel to move to.", "اختر القناة التي يُنقل إليها النشاط."),
    "remove_change": ("Remove from the plan", "احذف من الخطة"),
    "projection_of": ("Projection of {service}, {quarter}, plan: {plan}", "توقّع {service}، {quarter}، الخطة: {plan}"),
    "press_apply": ("Press \u201cProject the stars\u201d to see this plan\u2019s projection.",
                    "اضغط \u00abاحسب النجوم المتوقعة\u00bb لترى توقّع هذه الخطة."),
    "working": ("Working\u2026", "جارٍ الحساب\u2026"),
    "difference": ("Difference", "الفرق"),
    "verdict": ("Against today", "مقارنةً باليوم"),
    "better": ("Better", "أفضل"),
    "worse": ("Worse", "أسوأ"),
    "same": ("Same", "دون تغيير"),
    # The discover page (DASH, issue 24).
    "page_discover": ("Discover", "اكتشاف"),
    "dc_bundles": ("Bundle candidates", "الحزم المرشحة"),
    "dc_proactive": ("Proactive candidates", "الخدمات الاستباقية المرشحة"),
    "dc_window": ("Window (days)", "النافذة (أيام)"),
    "dc_support": ("Least support (%)", "أدنى دعم (%)"),
    "dc_within": ("Within (days)", "خلال (أيام)"),
    "dc_share": ("Least share (%)", "أدنى نسبة (%)"),
    "dc_bundle_thresholds": ("window {days} days · support at least {support}",
                             "نافذة {days} يوماً · دعم لا يقل عن {support}"),
    "dc_proactive_thresholds": ("within {days} days · share at least {share}",
                                "خلال {days} يوماً · نسبة لا تقل عن {share}"),
    "dc_dates": ("cases from {first} to {last}", "طلبات من {first} إلى {last}"),
    "dc_episodes": ("{customers} customers in {episodes} episodes", "{customers} متعامل في {episodes} فترة"),
    "dc_customers": ("{customers} customers", "{customers} متعامل"),
    "dc_bundles_method": (
        "Method: a customer's cases are linked into one episode while each starts at most the window's days after the "
        "one before. Support is the share of episodes holding a set of services, confidence the share of the "
        "episodes with its first service that hold it all, lift its support over what independent services would "
        "give (1: no link). As one window, an activity several services ask for is taken once, visits join into "
        "one and each document is asked once; candidates are ranked by customers times steps saved.",
        "المنهجية: تُربط طلبات المتعامل في فترة واحدة ما دام كل طلب يبدأ خلال أيام النافذة من الطلب الذي قبله. "
        "الدعم هو نسبة الفترات التي تضم مجموعة الخدمات، والثقة نسبة الفترات التي فيها خدمتها الأولى وتضمها كلها، "
        "والرفع دعمها مقسوماً على ما تعطيه خدمات مستقلة (1: لا صلة). وفي نافذة واحدة يؤدى النشاط الذي تطلبه عدة "
        "خدمات مرة واحدة، وتُجمع الزيارات في زيارة، ويُطلب كل مستند مرة واحدة؛ وتُرتّب المرشحات بعدد المتعاملين "
        "مضروباً في الخطوات الموفَّرة."),
    "dc_proactive_method": (
        "Method: a customer whose trigger case completed is followed when their follower case started no later than "
        "the days set after it ended; the share is the followed customers over the customers, each counted once, "
        "and the lag runs from the trigger's end to the follower's start. A proactive start would save the steps "
        "and visits of the follower's application (its steps before staff act) and the median lag in days.",
        "المنهجية: يُعدّ المتعامل الذي أُنجز طلبه في الخدمة المُطلِقة متبوعاً إذا بدأ طلبه في الخدمة التالية خلال "
        "الأيام المحددة بعد إنجازها؛ والنسبة هي المتعاملون المتبوعون من المتعاملين، ويُحسب كل متعامل مرة واحدة، "
        "والفاصل من إنجاز المُطلِقة إلى بدء التالية. ويوفّر البدء الاستباقي خطوات طلب الخدمة التالية وزياراته "
        "(خطواته قبل أن يعمل عليه الموظفون) والفاصل الوسيط بالأيام."),
    "dc_adopt_note": (
        "The dashboard reads a copy of the store and writes nothing: to measure a bundle as a life event from then "
        "on, run its command with the path of your catalogue file.",
        "تقرأ لوحة المعلومات نسخة من المخزن ولا تكتب فيه شيئاً: لقياس حزمة بوصفها مناسبة حياة من الآن فصاعداً، "
        "شغّل أمرها مع مسار ملف الدليل."),
    "dc_working": ("Working… {seconds} s", "جارٍ الحساب… {seconds} ثانية"),
    "dc_no_bundles": ("No bundle reaches a support of {support} within {days} days: lower the support or widen the "
                      "window.",
                      "لا تبلغ أي حزمة دعماً قدره {support} خلال {days} يوماً: اخفض الدعم أو وسّع النافذة."),
    "dc_no_proactive": ("No service follows another's completion within {days} days for {share} of customers or more: "
                        "lower the share or widen the days.",
                        "لا تتبع أي خدمة إنجاز خدمة أخرى خلال {days} يوماً لدى {share} من المتعاملين أو أكثر: اخفض "
                        "النسبة أو زِد الأيام."),
    "dc_hidden": ("Candidates of fewer than {n} customers are not shown.",
                  "لا تُعرض المرشحات التي يقل متعاملوها عن {n}."),
    "dc_no_data": ("no data for {figures}: needs {needs} ({services})",
                   "لا توجد بيانات لـ {figures}: يتطلب {needs} ({services})"),
    "dc_need_agency": ("an agency column", "عمود الجهة"),
    "dc_need_steps": ("an actor column or the service in the catalogue", "عمود الفاعل أو وصف الخدمة في الدليل"),
    "dc_need_catalogue": ("the service in the catalogue", "وصف الخدمة في الدليل"),
    "dc_services": ("Services, in their usual order", "الخدمات بترتيبها المعتاد"),
    "dc_support_col": ("Support", "الدعم"),
    "dc_lift": ("Lift", "الرفع"),
    "dc_visits": ("Visits today", "الزيارات اليوم"),
    "dc_steps": ("Customer steps today", "خطوات المتعامل اليوم"),
    "dc_documents": ("Documents asked again today", "المستندات المطلوبة مجدداً اليوم"),
    "dc_days": ("Days today (median)", "الأيام اليوم (الوسيط)"),
    "dc_steps_saved": ("Steps saved", "الخطوات الموفَّرة"),
    "dc_visits_saved": ("Visits saved", "الزيارات الموفَّرة"),
    "dc_life_event": ("Life event in the catalogue", "مناسبة الحياة في الدليل"),
    "dc_not_yet": ("not yet", "ليست بعد"),
    "dc_adopted": ("none needed: measured as a life event already", "لا حاجة إليه: تُقاس بالفعل مناسبةَ حياة"),
    "dc_adopt": ("Command that adopts it", "أمر اعتمادها"),
    "dc_trigger": ("Trigger", "الخدمة المُطلِقة"),
    "dc_follower": ("Follower", "الخدمة التالية"),
    "dc_trigger_customers": ("Customers", "المتعاملون"),
    "dc_followed": ("Followed", "المتبوعون"),
    "dc_lag_p10": ("Lag, 10th percentile (days)", "الفاصل، المئين العاشر (أيام)"),
    "dc_lag_median": ("Lag, median (days)", "الفاصل، الوسيط (أيام)"),
    "dc_lag_p90": ("Lag, 90th percentile (days)", "الفاصل، المئين التسعون (أيام)"),
    "dc_already": ("Already proactive", "استباقية حالياً"),
    "dc_application_steps": ("Application steps saved", "خطوات الطلب الموفَّرة"),
    "dc_days_saved": ("Days saved", "الأيام الموفَّرة"),
    "dc_pick_row": ("Click a row to see its lag.", "انقر صفاً لرؤية فاصله الزمني."),
    "dc_lag_title": ("Customers by days from {trigger} to {follower}",
                     "المتعاملون حسب الأيام من {trigger} إلى {follower}"),
    "dc_lag_x": ("days from the trigger's completion to the follower's start",
                 "الأيام من إنجاز الخدمة المُطلِقة إلى بدء الخدمة التالية"),
    # units, periods and selections, and what an empty card waits for (ARABIC)
    "utc": ("UTC", "بالتوقيت العالمي"),
    "hours_unit": ("h", "ساعة"),
    "median_hours": ("median hours", "الساعات الوسيطة"),
    "variant_n": ("V{n}", "المسار {n}"),
    "quarters_from_to": ("{first} to {last}", "من {first} إلى {last}"),
    "searched": ("names with \u201c{text}\u201d", "الأسماء التي فيها \u00ab{text}\u00bb"),
    "all_services": ("All services", "كل الخدمات"),
    "all_files": ("Every file loaded", "كل الملفات المحمّلة"),
    "waiting_for_table": ("Drawn once the table of services above has its rows.",
                          "يُرسم حين يمتلئ جدول الخدمات أعلاه."),
    "no_service_matches": ("No service matches these filters: choose another quarter, agency or channel, or clear the search.",
                           "لا توجد خدمة تطابق هذه المرشحات: اختر ربعاً أو جهة أو قناة أخرى، أو امسح البحث."),
    "no_flows": ("No journey of this life event goes from one agency or service to another yet.",
                 "لا توجد بعد رحلة في هذه المناسبة تنتقل من جهة أو خدمة إلى أخرى."),
    "no_ask_once": ("No journey of this life event was asked again for data it had given.",
                    "لم تُطلب في أي رحلة من هذه المناسبة بيانات سبق تقديمها."),
    "last_n_quarters": ("Last {n} quarters", "آخر {n} أرباع"),
    "no_cases_yet": ("No case has a quarter yet: the chart fills once an event log is loaded.",
                     "لا توجد طلبات في أي ربع بعد: يمتلئ الرسم عند تحميل سجل أحداث."),
    # The report (REPORT, issue 22).
    "contents": ("Contents", "المحتويات"),
    "summary": ("Executive summary", "الملخص التنفيذي"),
    "movers_up": ("Up since last quarter", "تحسّنت منذ الربع السابق"),
    "movers_down": ("Down since last quarter", "تراجعت منذ الربع السابق"),
    "no_movers": ("None.", "لا شيء."),
    "attention": ("Needs attention", "تحتاج إلى اهتمام"),
    "not_rated_list": ("Not rated: {services}", "غير مصنّفة: {services}"),
    "provisional_list": ("Provisional: {services}", "مؤقتة: {services}"),
    "what_changed": ("What changed", "ما الذي تغيّر"),
    "model_line": ("Rating model version {version}, configuration hash {hash}; data up to {cutoff}.",
                   "نموذج التقييم الإصدار {version}، بصمة الإعداد {hash}؛ البيانات حتى {cutoff}."),
    "trend_note": ("Stars per quarter; the line is the score (0 to 100). A blank has too few customers or no rating.",
                   "النجوم في كل ربع؛ والخط هو الدرجة (من 0 إلى 100). الخانة الفارغة: عملاء أقل من الحد أو لا تقييم."),
    "by_channel": ("Stars by channel", "النجوم حسب القناة"),
    "channel_note": ("A blank: fewer than {n} customers in that channel, or too little evidence to rate.",
                     "الخانة الفارغة: أقل من {n} عملاء في تلك القناة، أو أدلة لا تكفي للتقييم."),
    "by_agency": ("Stars by agency", "النجوم حسب الجهة"),
    "services_count": ("Services", "الخدمات"),
    "star_range": ("Stars (lowest to highest)", "النجوم (من الأدنى إلى الأعلى)"),
    "service_pages": ("Service pages", "صفحات الخدمات"),
    "appendix_kpis": ("KPIs, floors, targets and weights", "المؤشرات والحدود الدنيا والمستهدفات والأوزان"),
    "floor": ("Floor (score 0)", "الحد الأدنى (درجة 0)"),
    "weight": ("Weight in its pillar", "الوزن ضمن المحور"),
    "pillar_weight": ("{pillar}: {weight} of the score", "{pillar}: {weight} من الدرجة"),
    "bands": ("Star bands", "نطاقات النجوم"),
    "band_line": ("{stars} stars from a score of {low}", "{stars} نجوم ابتداءً من درجة {low}"),
    "lowest_band": ("{stars} stars below {high}", "{stars} نجوم دون درجة {high}"),
    "page_of": ("Page", "صفحة"),
    "appendix_data": ("Appendix: the data behind the ratings", "ملحق: البيانات التي بُني عليها التقييم"),
    # the variant explorer of the service page (EXPLORER)
    "ex_filters": ("Filters", "المرشحات"),
    "ex_present": ("Activities present", "أنشطة موجودة"),
    "ex_absent": ("Activities absent", "أنشطة غائبة"),
    "ex_directly": ("Directly followed by", "تليه مباشرة"),
    "ex_eventually": ("Eventually followed by", "يليه لاحقاً"),
    "ex_first": ("Activity", "النشاط"),
    "ex_then": ("then", "ثم"),
    "ex_attribute": ("Attribute", "السمة"),
    "ex_value": ("Value", "القيمة"),
    "ex_min_days": ("Duration from (days)", "المدة من (أيام)"),
    "ex_max_days": ("to (days)", "إلى (أيام)"),
    "ex_outcome": ("Outcome", "النتيجة"),
    "ex_first_channel": ("First channel", "القناة الأولى"),
    "ex_outcome_completed": ("completed", "منجز"),
    "ex_outcome_rejected": ("rejected", "مرفوض"),
    "ex_outcome_abandoned": ("abandoned", "متروك"),
    "ex_outcome_open": ("open", "مفتوح"),
    "ex_filters_n": ("{n} filters", "المرشحات: {n}"),
    "ex_no_filter": ("no filter", "بلا مرشح"),
    "ex_variants_n": ("{n} variants selected", "المسارات المختارة: {n}"),
    "ex_of_cases": ("{shown} of {total} cases", "{shown} من {total} طلب"),
    "ex_hidden": ("{variants} variants holding {cases} cases ({share} of the selection) have fewer than {n} customers "
                  "each, so they are not listed (no one can be singled out); their cases still count in the map, the KPIs "
                  "and the filters.",
                  "{variants} من المسارات فيها {cases} طلب ({share} من الاختيار) لكل منها أقل من {n} متعاملين، فلا "
                  "تُعرض (حتى لا يُعرف أحد)؛ وتبقى طلباتها محسوبة في الخريطة والمؤشرات والمرشحات."),
    "ex_pick_variants": ("Tick variants in the table to narrow the map, the KPIs, the steps and the cases to them.",
                         "اختر مسارات في الجدول لحصر الخريطة والمؤشرات والخطوات والطلبات فيها."),
    "ex_path": ("Steps of the variant", "خطوات المسار"),
    "ex_share": ("Share", "الحصة"),
    "ex_cumulative": ("Cumulative coverage", "التغطية التراكمية"),
    "ex_median_days": ("Median days", "الأيام الوسيطة"),
    "ex_customer_steps": ("Customer steps (median)", "خطوات المتعامل (الوسيط)"),
    "ex_cases_title": ("Cases of the selection", "طلبات الاختيار"),
    "ex_case": ("Case", "الطلب"),
    "ex_customer": ("Customer (pseudonym)", "المتعامل (اسم مستعار)"),
    "ex_start": ("Start ({zone})", "البداية (بتوقيت \u2066{zone}\u2069)"),
    "ex_end": ("End ({zone})", "النهاية (بتوقيت \u2066{zone}\u2069)"),
    "ex_duration_days": ("Duration (days)", "المدة (أيام)"),
    "ex_events": ("Events", "الأحداث"),
    "ex_cases_listed": ("The latest {shown} of {total} cases are listed; click one to see its timeline.",
                        "تُعرض أحدث {shown} من {total} طلب؛ انقر طلباً لرؤية خطه الزمني."),
    "ex_timeline": ("Case timeline", "الخط الزمني للطلب"),
    "ex_time": ("Time ({zone})", "الوقت (بتوقيت \u2066{zone}\u2069)"),
    "ex_resource": ("Resource", "المورد"),
    "ex_actor": ("Actor", "الفاعل"),
    "ex_pick_case": ("Click a case in the list above to see its events in time order.",
                     "انقر طلباً في القائمة أعلاه لرؤية أحداثه بترتيبها الزمني."),
    "ex_case_events": ("Case {case}: {n} events in time order.", "الطلب {case}: {n} حدثاً بترتيبها الزمني."),
    "ex_case_outside": ("Case {case} is not in this selection: pick a case from the list.",
                        "الطلب {case} ليس في هذا الاختيار: اختر طلباً من القائمة."),
    "ex_export_csv": ("Export CSV", "تصدير CSV"),
    "ex_export_png": ("Map as PNG", "الخريطة بصيغة PNG"),
    "ex_export_svg": ("Map as SVG", "الخريطة بصيغة SVG"),
    "ex_latest_rated": ("This card rates the latest quarter, {quarter}; the map, the variants and the KPIs below are of "
                        "all quarters.",
                        "تقيّم هذه البطاقة آخر ربع، {quarter}؛ أما الخريطة والمسارات والمؤشرات أدناه فهي لكل الأرباع."),
    "ex_kpis_wait": ("The KPIs show once the selection has at least {n} customers: widen the filters or tick more variants.",
                     "تظهر المؤشرات حين يضم الاختيار {n} متعاملين على الأقل: وسّع المرشحات أو اختر مسارات أكثر."),
    "ex_working": ("Working… checking the journeys against the designed journey.",
                   "جارٍ العمل… تُقارن الرحلات بالرحلة المصممة."),
    "ex_conformance_scope": ("{period} · every case of the service (the filters and variants do not apply here)",
                             "{period} · كل طلبات الخدمة (لا تنطبق المرشحات والمسارات هنا)"),
    # process maps (MAPS)
    "map_seconds": ("s", "ثانية"),
    "map_minutes": ("min", "دقيقة"),
    "map_hours": ("h", "ساعة"),
    "map_days": ("d", "يوم"),
    "map_median_time": ("median time", "الزمن الوسيط"),
    "map_edge_hover": ("{n} times", "{n} مرة"),
    "map_edge_median": ("median {time}", "الوسيط {time}"),
    "map_node_hover": ("{events} events in {cases} cases", "{events} حدثًا في {cases} طلبًا"),
    "map_loop_hover": ("repeated at once {n} times", "تكرّر مباشرةً {n} مرة"),
    "ex_filters_n_one": ("{n} filter", "المرشحات: {n}"),
    "ex_variants_n_one": ("{n} variant selected", "المسارات المختارة: {n}"),
    "ex_n_cases": ("{n} cases", "الطلبات: {n}"),
    "ex_n_cases_one": ("{n} case", "الطلبات: {n}"),
    "ex_n_activities": ("{n} activities", "الأنشطة: {n}"),
    "ex_n_activities_one": ("{n} activity", "الأنشطة: {n}"),
    "ex_hidden_few": ("Variants of fewer than {n} customers each are not listed (no one can be singled out); their cases "
                      "still count in the map, the KPIs and the filters.",
                      "لا تُعرض المسارات التي لكل منها أقل من {n} متعاملين (حتى لا يُعرف أحد)؛ وتبقى طلباتها محسوبة في "
                      "الخريطة والمؤشرات والمرشحات."),
    "ex_actor_customer": ("customer", "المتعامل"),
    "ex_actor_staff": ("staff", "الموظف"),
    "ex_actor_system": ("system", "النظام"),
    # the service page's rework section, edeaR's kinds (REWORK, issue 26)
    "rw_title": ("Rework", "إعادة العمل"),
    "rw_definition": ("A self-loop is a step done again right after itself; a repetition, a step done again after other "
                      "steps. Repeat: by the same resource (for a repetition, the one of the step's first time); redo: "
                      "by another; unknown: a resource not known, never counted as a redo (bupaR's edeaR kinds).",
                      "التكرار المباشر خطوةٌ تُعاد فور نفسها؛ والتكرار اللاحق خطوةٌ تُعاد بعد خطوات أخرى. إعادة: بالمورد نفسه "
                      "(وفي التكرار اللاحق مورد أول مرة)؛ إعادة تنفيذ: بمورد آخر؛ غير معروف: مورد غير مسجَّل، ولا يُعدّ "
                      "إعادة تنفيذ أبدًا (وفق التعريفات المعتمدة في أدوات تعدين العمليات)."),
    "rw_summary": ("{cases} of {total} cases with rework · self-loops {loops} (repeat {loops_repeat}, redo {loops_redo}, "
                   "unknown {loops_unknown}) · repetitions {repetitions} (repeat {repetitions_repeat}, redo "
                   "{repetitions_redo}, unknown {repetitions_unknown})",
                   "طلبات فيها إعادة عمل: {cases} من {total} · التكرار المباشر {loops} (إعادة {loops_repeat}، إعادة تنفيذ "
                   "{loops_redo}، غير معروف {loops_unknown}) · التكرار اللاحق {repetitions} (إعادة {repetitions_repeat}، "
                   "إعادة تنفيذ {repetitions_redo}، غير معروف {repetitions_unknown})"),
    "rw_no_resource": ("The events of this selection name no resource: who did its rework is unknown, neither repeat nor "
                       "redo.",
                       "لا تذكر أحداث هذا الاختيار أي مورد: فمن أعاد العمل غير معروف، لا إعادة ولا إعادة تنفيذ."),
    "rw_hidden": ("Activities of fewer than {min} customers each are not listed ({n} of them); their rework counts above.",
                  "لا تُعرض الأنشطة التي لكل منها أقل من {min} متعاملين (عددها {n})؛ وإعادة عملها محسوبة أعلاه."),
    "rw_cases": ("Cases", "الطلبات"),
    "rw_cases_with_rework": ("Cases with rework", "طلبات فيها إعادة عمل"),
    "rw_self_loops": ("Self-loops", "التكرار المباشر"),
    "rw_repetitions": ("Repetitions", "التكرار اللاحق"),
    "rw_repeat": ("{kind}: repeat", "{kind}: إعادة"),
    "rw_redo": ("{kind}: redo", "{kind}: إعادة تنفيذ"),
    "rw_unknown": ("{kind}: unknown", "{kind}: غير معروف"),
    # background jobs that did not answer (SERVER, issue 22)
    "job_failed": ("The calculation failed; the server's log says why.", "تعذّر إتمام الحساب؛ سجلّ الخادم يذكر السبب."),
    "job_stopping": ("The dashboard is stopping; ask again once it is back.",
                     "لوحة المعلومات تتوقف الآن؛ اطلب ذلك مرة أخرى بعد عودتها."),
    "job_cancelled": ("This calculation was cancelled; ask for it again.", "أُلغي هذا الحساب؛ اطلبه مرة أخرى."),
    # the report's selections and summary (REPORT, issue 22)
    "at_least_customers": ("services of at least {n} customers", "الخدمات التي لها {n} متعاملين على الأقل"),
    "below_stars": ("Fewer than {stars} stars: {services}", "أقل من {stars} نجوم: {services}"),
    "no_service": ("none", "لا توجد خدمة"),
    "weighted_score": ("Score, weighted by cases", "الدرجة مرجّحة بعدد الطلبات"),
    "no_rated_services": ("No service is rated in {quarter}, so there are no stars to count.",
                          "لا توجد خدمة مقيّمة في {quarter}، فلا نجوم تُعدّ."),
    "no_channel_data": ("No channel is told apart in {quarter}: the log has no channel column, or no channel holds "
                        "{n} customers or more.",
                        "لا تُميَّز أي قناة في {quarter}: لا يحوي السجل عمود قناة، أو لا تضم أي قناة {n} متعاملين أو أكثر."),
    # the report's redesign opportunities (REPORT, issue 24); its tables' headings are the discover page's (dc_)
    "rp_redesign": ("Redesign opportunities", "فرص إعادة التصميم"),
    "rp_redesign_method": (
        "Every service's cases started from {first} to {last} are read; a customer's cases form one episode while each "
        "starts within {window} days of the one before, a bundle is a set of services held by at least {support} of "
        "the {episodes} episodes, a proactive candidate is a service that at least {share} of the customers who "
        "completed another service started within {within} days of its end, and only groups of at least {n} "
        "customers among the services this report shows are listed.",
        "تُقرأ طلبات كل الخدمات التي بدأت من {first} إلى {last}؛ وتكوّن طلبات المتعامل فترة واحدة ما دام كل طلب يبدأ "
        "خلال {window} يوماً من الطلب الذي قبله، والحزمة مجموعة خدمات تضمها {support} على الأقل من الفترات وعددها "
        "{episodes}، والخدمة الاستباقية المرشحة خدمة بدأها {share} على الأقل من المتعاملين الذين أُنجزت لهم خدمة أخرى "
        "خلال {within} يوماً من إنجازها، ولا تُعرض إلا المجموعات التي لها {n} متعاملين على الأقل من الخدمات "
        "التي يعرضها هذا التقرير."),
    "rp_redesign_period": (
        "One quarter alone would cut customers' episodes at its edges, so this page reads the {n} quarters up to "
        "{last}; an episode that began before {first} is still cut at its start.",
        "الربع وحده يقطع فترات المتعاملين عند حدوده، لذا تقرأ هذه الصفحة الأرباع الـ{n} حتى {last}؛ وتبقى الفترة التي "
        "بدأت قبل {first} مقطوعة عند بدايتها."),
    "rp_bundles": ("Bundles: services the same customers use together", "الحزم: خدمات يستعملها المتعاملون أنفسهم معاً"),
    "rp_bundles_ranked": (
        "Candidates found: {total}; the best {shown} shown, ranked by customers times steps saved. Today: per episode holding the "
        "services; saved: what one window would save per episode (an activity several services ask for taken once, "
        "visits joined into one, each document asked once).",
        "المرشحات: {total}؛ تُعرض أفضل {shown} منها مرتبة بعدد المتعاملين مضروباً في الخطوات الموفَّرة. اليوم: لكل فترة تضم الخدمات؛ "
        "الموفَّر: ما توفّره نافذة واحدة لكل فترة (يؤدى النشاط الذي تطلبه عدة خدمات مرة واحدة، وتُجمع الزيارات في "
        "زيارة، ويُطلب كل مستند مرة واحدة)."),
    "rp_no_bundles": ("No set of services is held by {support} of the episodes and {n} customers in this period.",
                      "لا توجد مجموعة خدمات تضمها {support} من الفترات ولها {n} متعاملين في هذه المدة."),
    "rp_proactive": ("Proactive services: services that follow another's completion",
                     "الخدمات الاستباقية: خدمات تلي إنجاز خدمة أخرى"),
    "rp_proactive_ranked": (
        "Candidates found: {total}; the best {shown} shown, ranked by followed customers times application steps. Saved: per followed "
        "case, if the government started it itself; the lag runs from the trigger's end to the follower's start.",
        "المرشحات: {total}؛ تُعرض أفضل {shown} منها مرتبة بعدد المتعاملين المتبوعين مضروباً في خطوات الطلب. الموفَّر: لكل طلب متبوع "
        "لو بدأته الحكومة بنفسها؛ والفاصل من إنجاز الخدمة المُطلِقة إلى بدء الخدمة التالية."),
    "rp_no_proactive": ("No service follows another's completion within {within} days for {share} of its customers and "
                        "{n} customers in this period.",
                        "لا تتبع أي خدمة إنجاز خدمة أخرى خلال {within} يوماً لدى {share} من متعامليها و{n} متعاملين في "
                        "هذه المدة."),
    "rp_then": (" → ", " ← "),
    # the hand-over page (dashboards/pages/handover.py)
    "page_handover": ("Hand-overs", "تسليم العمل"),
    "ho_by": ("Hand-overs between", "تسليم العمل بين"),
    "ho_by_agency": ("Agencies", "الجهات"),
    "ho_by_service": ("Services", "الخدمات"),
    "ho_by_resource": ("Resources", "المنفّذين"),
    "ho_network": ("Hand-over network", "شبكة تسليم العمل"),
    "ho_matrix": ("Hand-over matrix: from (rows) to (columns)", "مصفوفة تسليم العمل: من (الصفوف) إلى (الأعمدة)"),
    "ho_pairs": ("Hand-overs by pair", "تسليم العمل لكل زوج"),
    "ho_from": ("From", "من"),
    "ho_to": ("To", "إلى"),
    "ho_handovers": ("Hand-overs", "مرات التسليم"),
    "ho_median_days": ("Median time (days)", "الوقت الوسيط (بالأيام)"),
    "ho_summary": ("{handovers} hand-overs between {pairs} pairs.", "{handovers} عملية تسليم بين {pairs} زوجاً."),
    "ho_hidden": ("{pairs} pairs of fewer than {n} customers each are not shown.",
                  "لا تُعرض {pairs} من الأزواج لأن لكل منها أقل من {n} متعاملين."),
    "ho_drawn": ("The network draws the {shown} most frequent of the {pairs} pairs; the matrix and the list hold them all.",
                 "ترسم الشبكة أكثر {shown} زوجاً تكراراً من {pairs} زوجاً؛ وتضمها المصفوفة والقائمة كلها."),
    "ho_none": ("No hand-over of work in this selection.", "لا يوجد تسليم للعمل في هذا الاختيار."),
    "ho_no_column": ("No data: the events of this selection have no {column} column, so these hand-overs cannot be "
                     "counted.", "لا توجد بيانات: لا تحمل أحداث هذا الاختيار العمود {column}، فلا يمكن عدّ هذا التسليم."),
    "ho_column_agency": ("agency", "الجهة"),
    "ho_column_resource": ("resource", "المنفّذ"),
    "ho_column_customer_id": ("customer", "المتعامل"),
    "ho_definition": (
        "A hand-over is two consecutive events of a case, in time order (ties in load order), whose agency, service or "
        "resource differs; an event without one hands nothing over. Between services, a customer's cases that each "
        "start within {days} days of the one before are taken as one journey.",
        "التسليم حدثان متتاليان في الطلب، بترتيبهما الزمني (وعند التساوي بترتيب التحميل)، تختلف بينهما الجهة أو الخدمة أو "
        "المنفّذ؛ والحدث الذي لا يذكر أياً منها لا يسلّم شيئاً. وبين الخدمات، تُعد طلبات المتعامل التي يبدأ كل منها خلال "
        "{days} يوماً من الذي قبله رحلة واحدة."),
    "rp_no_customers": ("No case of this period names its customer, so no customer's services can be linked: the log "
                        "needs a customer column to find bundles and proactive services.",
                        "لا يذكر أي طلب في هذه المدة متعامله، فلا يمكن ربط خدمات المتعامل: يحتاج السجل إلى عمود "
                        "للمتعامل لاكتشاف الحزم والخدمات الاستباقية."),
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
                                          kpis=listed((kpi_label(k, lang) for k in shortfall.lacking), lang))


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


def utc_minute(value: object, lang: str = "en") -> str:
    """An instant as people read it, to the minute in UTC, in `lang` (digits stay Western, see the module's notes).

    A naive instant is read as UTC (time is UTC inside najma); a missing one (None, NaN, NaT) is "no data" in `lang`.

    Examples
    --------
    >>> utc_minute(pd.Timestamp("2025-10-03 13:05:59", tz="Asia/Dubai"))
    '2025-10-03 09:05 UTC'
    >>> utc_minute(pd.Timestamp("2025-10-03 09:05", tz="UTC"), "ar")
    '2025-10-03 09:05 بالتوقيت العالمي'
    >>> utc_minute(pd.Timestamp("2025-10-03 09:05"))
    '2025-10-03 09:05 UTC'
    >>> utc_minute(None), utc_minute(float("nan"), "ar"), utc_minute(pd.NaT)
    ('no data', 'لا توجد بيانات', 'no data')
    """
    if value is None or pd.isna(value):
        return text("no_data_short", lang)
    instant = pd.Timestamp(value)
    instant = instant.tz_localize("UTC") if instant.tzinfo is None else instant.tz_convert("UTC")
    return instant.strftime("%Y-%m-%d %H:%M ") + text("utc", lang)


#: The ordinal of each quarter of the year, in Arabic.
_QUARTER_ORDINALS_AR = ("الأول", "الثاني", "الثالث", "الرابع")


def quarter_text(quarter: str, lang: str) -> str:
    """A quarter as people read it in `lang`: "2025Q4" in English, "الربع الرابع 2025" in Arabic.

    Examples
    --------
    >>> quarter_text("2025Q4", "en"), quarter_text("2025q1", "ar")
    ('2025Q4', 'الربع الأول 2025')
    >>> quarter_text("2025Q5", "en")
    Traceback (most recent call last):
    ...
    najma.errors.InvalidParameterError: The 'quarter' parameter must look like 2025Q1. Got '2025Q5' instead.
    """
    try:
        name = quarter_name(quarter)
    except InvalidEventLogError as error:
        raise InvalidParameterError(str(error), parameter="quarter") from None
    if lang != "ar":
        return name
    return f"{text('quarter', lang)} {_QUARTER_ORDINALS_AR[int(name[-1]) - 1]} {name[:4]}"


def period_text(quarters: Sequence[str], every: bool, lang: str) -> str:
    """The period a card covers, in `lang`: all quarters (`every`), one quarter, or the first to the last of `quarters`.

    Examples
    --------
    >>> period_text(["2025Q3", "2025Q1"], False, "en"), period_text(["2025Q3"], False, "ar")
    ('2025Q1 to 2025Q3', 'الربع الثالث 2025')
    >>> period_text(["2025Q3", "2025Q1"], True, "en")
    'All quarters'

    Quarters are compared by their names, whatever the form they come in:

    >>> period_text(["2025Q4", "2025q1"], False, "en"), period_text(["2025-q2", "2025Q2"], False, "en")
    ('2025Q1 to 2025Q4', '2025Q2')
    """
    if every or not quarters:
        return text("all_quarters", lang)
    names = [quarter_text(q, "en") for q in quarters]  # each quarter's name, refusing a bad one as quarter_text does
    first, last = min(names), max(names)
    if first == last:
        return quarter_text(first, lang)
    return text("quarters_from_to", lang).format(first=quarter_text(first, lang), last=quarter_text(last, lang))


#: AG Grid's own words (its overlays, filter menus, pager and column menu) in Arabic, by AG Grid's locale keys.
_GRID_AR = {
    "noRowsToShow": "لا توجد صفوف للعرض", "loadingOoo": "جارٍ التحميل…", "loadingError": "تعذّر التحميل",
    "filterOoo": "تصفية…", "searchOoo": "بحث…", "selectAll": "(تحديد الكل)", "blanks": "(فارغ)",
    "noMatches": "لا توجد نتائج", "empty": "اختر شرطاً", "equals": "يساوي", "notEqual": "لا يساوي",
    "lessThan": "أقل من", "greaterThan": "أكبر من", "lessThanOrEqual": "أقل من أو يساوي",
    "greaterThanOrEqual": "أكبر من أو يساوي", "inRange": "بين", "inRangeStart": "من", "inRangeEnd": "إلى",
    "contains": "يحتوي", "notContains": "لا يحتوي", "startsWith": "يبدأ بـ", "endsWith": "ينتهي بـ",
    "blank": "فارغ", "notBlank": "غير فارغ", "before": "قبل", "after": "بعد", "andCondition": "و",
    "orCondition": "أو", "applyFilter": "تطبيق", "resetFilter": "إعادة الضبط", "clearFilter": "مسح",
    "cancelFilter": "إلغاء", "textFilter": "تصفية النص", "numberFilter": "تصفية الأرقام",
    "dateFilter": "تصفية التاريخ", "dateFormatOoo": "سنة-شهر-يوم", "columnFilter": "تصفية العمود",
    "ariaFilterInput": "حقل التصفية", "ariaFilterValue": "قيمة التصفية", "ariaFilteringOperator": "شرط التصفية",
    "ariaColumnFilter": "تصفية العمود", "page": "الصفحة", "of": "من", "to": "إلى", "more": "المزيد",
    "next": "التالية", "last": "الأخيرة", "first": "الأولى", "previous": "السابقة", "firstPage": "الصفحة الأولى",
    "previousPage": "الصفحة السابقة", "nextPage": "الصفحة التالية", "lastPage": "الصفحة الأخيرة",
    "pageSizeSelectorLabel": "حجم الصفحة:", "ariaPageSizeSelectorLabel": "حجم الصفحة",
    "sortAscending": "ترتيب تصاعدي", "sortDescending": "ترتيب تنازلي", "sortUnSort": "إلغاء الترتيب",
    "columnMenu": "قائمة العمود", "columns": "الأعمدة", "filters": "عوامل التصفية", "pinColumn": "تثبيت العمود",
    "pinLeft": "تثبيت يساراً", "pinRight": "تثبيت يميناً", "noPin": "بلا تثبيت",
    "autosizeThisColumn": "ضبط عرض هذا العمود", "autosizeAllColumns": "ضبط عرض كل الأعمدة",
    "resetColumns": "إعادة ضبط الأعمدة", "copy": "نسخ", "export": "تصدير", "csvExport": "تصدير CSV",
}


def grid_locale(lang: str) -> dict[str, str]:
    """AG Grid's ``localeText`` for `lang`: its own words in Arabic; empty (AG Grid's English) otherwise.

    Examples
    --------
    >>> grid_locale("ar")["noRowsToShow"], grid_locale("en")
    ('لا توجد صفوف للعرض', {})
    """
    return dict(_GRID_AR) if lang == "ar" else {}


def source_lines(provenance: Provenance, lang: str, names: Mapping[str, str] | None = None) -> list[str]:
    """Where a quarter's ratings come from: published (which revision, cut-off, by whom), today's drafts, or both;
    and what the change compares with. `names` are the services' display names."""
    quarter, record = provenance.quarter, provenance.publication
    if not record:
        lines = [text("draft_ratings", lang).format(quarter=quarter_text(quarter, lang))]
    else:
        fields = {"quarter": quarter_text(quarter, lang), "revision": int(record["revision"]), "by": record["published_by"],
                  "cutoff": utc_minute(record["cutoff"], lang), "at": utc_minute(record["published_at"])[:10]}
        lines = [text("rerated_ratings" if provenance.everything_rerated else "published_ratings", lang).format(**fields)]
        if provenance.rerated:
            rerated = listed(((names or {}).get(s, s) for s in provenance.rerated), lang)
            lines.append(text("rerated_services", lang).format(services=rerated))
    before = quarter_text(previous_quarter(quarter), lang)
    return [*lines, text("before_published" if provenance.before_published else "before_draft", lang).format(quarter=before)]


def change_text(change: object, lang: str) -> str:
    """A change of stars since last quarter: "+1", "-2", "=", or "new" (in `lang`) without a rating then.

    Examples
    --------
    >>> change_text(1, "en"), change_text(0, "en"), change_text(None, "ar")
    ('+1', '=', 'جديد')

    In Arabic the signed number is kept left to right (a Unicode isolate), so "+1" never reads "1+":

    >>> change_text(-2, "ar")
    '\u2066-2\u2069'
    """
    if change is None or pd.isna(change):
        return text("new", lang)
    return "=" if change == 0 else _ltr(f"{int(change):+d}", lang)


def _ltr(shown: str, lang: str) -> str:
    """`shown` kept left to right in an Arabic sentence (a signed number, an arrow between values)."""
    return f"\u2066{shown}\u2069" if lang == "ar" else shown


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


def listed(items: Iterable[str], lang: str) -> str:
    """`items` as a list in `lang`: "a, b" in English, "a، b" in Arabic.

    Examples
    --------
    >>> listed(["a", "b"], "en"), listed(["أ", "ب"], "ar")
    ('a, b', 'أ، ب')
    """
    return _LIST[lang].join(items)
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
        lines.append(text("no_column", lang).format(column=text(f"column_{column}", lang), needs=listed(needs, lang),
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
    "a satisfaction column or survey answers": "عمود الرضا أو إجابات الاستبيان",
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

    In Arabic the move reads left to right, so the arrow points from the value before to the value now.
    """
    unit = KPIS[move.kpi].unit
    moved = _ltr(f"{format_value(move.before, unit)} → {format_value(move.now, unit)} ({move.points:+.1f})", lang)
    return f"{kpi_label(move.kpi, lang)}: {moved}"


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
