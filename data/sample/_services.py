"""The sample government services: their journeys as templates of steps, in English and Arabic.

A template is the ordered list of steps a case can take. A step may be optional (``p``), part of
the rework block (repeated up to :data:`MAX_REWORK` times), the application (replaced by a
proactive start when the government opens the case itself), the decision, or after approval.

A service names the documents its submissions supply (the catalogue's ``documents``): the rework's
"Resubmit documents" hands in again some of what "Upload documents" did, and the newborn bundle's
services ask for some of the same documents (the parents' Emirates IDs, the birth certificate),
from different agencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Step", "Service", "SERVICES", "AGENCIES", "CHANNELS", "ACTIVITY_NAMES_AR", "LIFE_EVENTS", "MAX_REWORK",
    "REDESIGN_DATE", "WORK_CALENDAR",
]

MAX_REWORK = 3
#: Documents the newborn bundle's services share, each asked by more than one agency.
PARENTS_IDS = "parents' Emirates IDs"
BIRTH_CERTIFICATE = "birth certificate"
#: The day the trade licence journey was redesigned (half way through the eight quarters).
REDESIGN_DATE = "2025-01-01"

#: The federal government's work week (Monday to Friday since 2022), hours and public holidays
#: (Islamic holidays as announced; they follow the moon, so a real catalogue takes the official list).
WORK_CALENDAR: dict[str, object] = {
    "time_zone": "Asia/Dubai",
    "work_days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
    "hours": ["07:30", "15:30"],
    "holidays": [
        "2024-01-01", "2024-04-09", "2024-04-10", "2024-04-11", "2024-06-15", "2024-06-16", "2024-06-17",
        "2024-06-18", "2024-07-07", "2024-09-15", "2024-12-02", "2024-12-03",
        "2025-01-01", "2025-03-30", "2025-03-31", "2025-04-01", "2025-06-05", "2025-06-06", "2025-06-07",
        "2025-06-08", "2025-06-26", "2025-09-04", "2025-12-02", "2025-12-03",
    ],
}

AGENCIES: dict[str, str] = {
    "Health Authority": "هيئة الصحة",
    "Identity and Citizenship Authority": "هيئة الهوية والجنسية",
    "Economic Development Department": "دائرة التنمية الاقتصادية",
    "Roads and Transport Authority": "هيئة الطرق والمواصلات",
    "Municipality": "البلدية",
    "Civil Defence": "الدفاع المدني",
    "Health Insurance Agency": "جهة التأمين الصحي",
}

CHANNELS: dict[str, str] = {
    "service centre": "مركز الخدمة",
    "website": "الموقع الإلكتروني",
    "smart app": "التطبيق الذكي",
    "call centre": "مركز الاتصال",
}

ACTIVITY_NAMES_AR: dict[str, str] = {
    "Submit application": "تقديم الطلب",
    "Proactive case opened": "فتح الطلب استباقياً",
    "Upload documents": "تحميل المستندات",
    "Pay fees": "دفع الرسوم",
    "Visit service centre": "زيارة مركز الخدمة",
    "Review application": "مراجعة الطلب",
    "Request additional documents": "طلب مستندات إضافية",
    "Resubmit documents": "إعادة تقديم المستندات",
    "Approve application": "الموافقة على الطلب",
    "Reject application": "رفض الطلب",
    "Issue document": "إصدار الوثيقة",
    "Deliver document": "توصيل الوثيقة",
    "Collect document at centre": "استلام الوثيقة من المركز",
    "Biometrics at service centre": "أخذ البصمات في مركز الخدمة",
    "Eye test": "فحص النظر",
    "Medical fitness test": "الفحص الطبي",
    "Hospital reports birth": "إبلاغ المستشفى عن الولادة",
    "Verify birth record": "التحقق من سجل الولادة",
    "Security check": "التدقيق الأمني",
    "Site inspection": "المعاينة الميدانية",
    "Civil defence approval": "موافقة الدفاع المدني",
    "Reserve trade name": "حجز الاسم التجاري",
    "Initial approval": "الموافقة المبدئية",
    "Call centre enquiry": "استفسار عبر مركز الاتصال",
    "Notify customer": "إشعار المتعامل",
    "Sign tenancy contract": "توقيع عقد الإيجار",
    "Select insurance plan": "اختيار خطة التأمين",
    "Activate policy": "تفعيل الوثيقة التأمينية",
}


@dataclass(frozen=True)
class Step:
    """One step of a journey template.

    Parameters
    ----------
    activity : str
        Its name, a key of :data:`ACTIVITY_NAMES_AR`.
    actor : {"customer", "staff", "system"}
        Who performs it.
    hours : float
        Median hours since the previous step (0 for a step at the same instant).
    p : float
        Probability that it happens when its part of the journey is reached.
    part : {"intake", "rework", "decision", "approved", "rejected"}
        Where it stands: rework steps repeat, approved steps follow approval only.
    roles : tuple of str
        Catalogue roles: visit, document_request, payment, delivery, application, ...
    agency : str, optional
        Another agency than the service's (a hand-off).
    channel : str, optional
        A channel forced by the step (a visit happens at a service centre).
    cost : float
        Cost of the step to the government, in AED.
    """

    activity: str
    actor: str
    hours: float
    p: float = 1.0
    part: str = "intake"
    roles: tuple[str, ...] = ()
    agency: str | None = None
    channel: str | None = None
    cost: float = 0.0


@dataclass(frozen=True)
class Service:
    """A sample service.

    Parameters
    ----------
    key : str
        Identifier used as the ``service`` value.
    name_en, name_ar : str
        Names in English and Arabic.
    agency : str
        The agency that owns it.
    sla_hours : float
        The SLA target for end-to-end time, in working hours of :data:`WORK_CALENDAR` (the generator's
        step hours are elapsed hours; the targets are the calendar-hour ones times 40/168, to half a day).
    steps : tuple of Step
        The journey; ``redesigned`` is the journey used from :data:`REDESIGN_DATE` on.
    share : float
        Its share of the cases that are not part of a life event.
    channels : dict
        Probability of each channel for cases of this service.
    rework : tuple of float
        Probabilities of 0, 1, 2 and 3 rework rounds.
    p_reject, p_abandon : float
        Probabilities that a case is rejected, or abandoned by the customer.
    p_proactive : float
        Probability that the government starts the case itself (no application).
    documents : dict
        Activity -> the documents a step of it supplies, for its ``document_submission`` steps; one
        that is not listed supplies one document named after its activity.
    """

    key: str
    name_en: str
    name_ar: str
    agency: str
    sla_hours: float
    steps: tuple[Step, ...]
    share: float = 0.0
    channels: dict[str, float] = field(default_factory=lambda: {"service centre": 0.4, "website": 0.3, "smart app": 0.2, "call centre": 0.1})
    rework: tuple[float, ...] = (0.7, 0.2, 0.07, 0.03)
    p_reject: float = 0.05
    p_abandon: float = 0.04
    p_proactive: float = 0.0
    redesigned: tuple[Step, ...] | None = None
    documents: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse a chance of a proactive start to a journey without a proactive start step."""
        journeys = (self.steps, *((self.redesigned,) if self.redesigned else ()))
        if self.p_proactive and not all(any("proactive_start" in s.roles for s in steps) for steps in journeys):
            raise ValueError(f"Service {self.key!r} has a p_proactive but a journey without a proactive start step.")

    def supplies(self, step: Step) -> tuple[str, ...]:
        """The documents `step` supplies: none unless it is a document submission (the catalogue's rule)."""
        if "document_submission" not in step.roles:
            return ()
        return self.documents.get(step.activity, (step.activity,))


def _apply(extra: tuple[Step, ...] = (), *, upload: float = 0.9, visit: float = 0.3, fee: float = 1.0) -> tuple[Step, ...]:
    """The common intake: apply, upload, maybe visit, pay."""
    return (
        Step("Submit application", "customer", 0, roles=("application",), cost=5),
        Step("Upload documents", "customer", 0.3, p=upload, roles=("document_submission",), cost=2),
        *extra,
        Step("Visit service centre", "customer", 30, p=visit, roles=("visit",), channel="service centre", cost=40),
        Step("Pay fees", "customer", 2, p=fee, roles=("payment",), cost=3),
    )


def _review(hours: float = 20) -> tuple[Step, ...]:
    """Review, the rework loop and the decision."""
    return (
        Step("Review application", "staff", hours, cost=30),
        Step("Request additional documents", "staff", 6, part="rework", roles=("document_request", "rework"), cost=10),
        Step("Resubmit documents", "customer", 30, part="rework", roles=("document_submission", "rework"), cost=2),
        Step("Review application", "staff", hours / 2, part="rework", roles=("rework",), cost=20),
        Step("Approve application", "staff", 2, part="decision", roles=("approval",), cost=10),
    )


def _deliver(collect: float = 0.2) -> tuple[Step, ...]:
    return (
        Step("Reject application", "staff", 2, part="rejected", roles=("rejection",), cost=10),
        Step("Issue document", "system", 1, part="approved", cost=5),
        Step("Notify customer", "system", 0, part="approved", roles=("notification",), cost=0.5),
        Step("Deliver document", "staff", 24, p=1 - collect, part="approved", roles=("delivery",), cost=25),
        Step("Collect document at centre", "customer", 48, p=collect, part="approved",
             roles=("delivery", "visit"), channel="service centre", cost=15),
    )


def _proactive_start() -> Step:
    return Step("Proactive case opened", "system", 0, roles=("proactive_start",), cost=1)


SERVICES: tuple[Service, ...] = (
    Service(
        "birth_notification", "Birth notification", "إشعار الولادة", "Health Authority", 12,
        (
            Step("Hospital reports birth", "staff", 0, roles=("application",), channel="website", cost=15),
            Step("Verify birth record", "system", 2, cost=2),
            Step("Request additional documents", "staff", 8, part="rework", roles=("document_request", "rework"), cost=10),
            Step("Resubmit documents", "customer", 24, part="rework", roles=("document_submission", "rework"), cost=2),
            Step("Approve application", "staff", 4, part="decision", roles=("approval",), cost=10),
            Step("Reject application", "staff", 2, part="rejected", roles=("rejection",), cost=10),
            Step("Notify customer", "system", 0, part="approved", roles=("notification",), cost=0.5),
        ),
        channels={"website": 1.0}, rework=(0.92, 0.07, 0.01, 0.0), p_reject=0.01, p_abandon=0.0,
        documents={"Resubmit documents": (PARENTS_IDS, "marriage certificate")},
    ),
    Service(
        "birth_certificate", "Birth certificate", "شهادة الميلاد", "Health Authority", 16,
        (_proactive_start(), *_apply(upload=0.8, visit=0.25), *_review(12), *_deliver(0.3)),
        p_proactive=0.3, p_reject=0.02,
        documents={"Upload documents": (PARENTS_IDS, "marriage certificate", "hospital birth record"),
                   "Resubmit documents": ("marriage certificate",)},
    ),
    Service(
        "national_id", "National ID for a newborn", "بطاقة الهوية الوطنية للمولود", "Identity and Citizenship Authority", 28,
        (_proactive_start(), *_apply((Step("Biometrics at service centre", "customer", 40, p=0.5, roles=("visit",),
                                            channel="service centre", cost=35),), visit=0.2),
         Step("Security check", "system", 4, agency="Identity and Citizenship Authority", cost=8), *_review(16), *_deliver(0.25)),
        p_proactive=0.45, p_reject=0.02,
        documents={"Upload documents": (BIRTH_CERTIFICATE, PARENTS_IDS, "child's photo"),
                   "Resubmit documents": ("child's photo",)},
    ),
    Service(
        "passport", "Passport for a newborn", "جواز السفر للمولود", "Identity and Citizenship Authority", 40,
        (_proactive_start(), *_apply(visit=0.35), *_review(24), *_deliver(0.35)),
        p_proactive=0.25, p_reject=0.03,
        documents={"Upload documents": (BIRTH_CERTIFICATE, "child's photo", "parents' passports"),
                   "Resubmit documents": ("child's photo", "parents' passports")},
    ),
    Service(
        "health_insurance", "Health insurance for a newborn", "التأمين الصحي للمولود", "Health Insurance Agency", 24,
        (_proactive_start(), *_apply((Step("Select insurance plan", "customer", 1, cost=1),), visit=0.1),
         *_review(10), Step("Activate policy", "system", 1, part="approved", cost=2), *_deliver(0.1)),
        p_proactive=0.35, p_reject=0.02,
        documents={"Upload documents": (BIRTH_CERTIFICATE, PARENTS_IDS, "salary certificate"),
                   "Resubmit documents": ("salary certificate",)},
    ),
    Service(
        "trade_licence", "Trade licence", "الرخصة التجارية", "Economic Development Department", 56,
        (
            Step("Call centre enquiry", "customer", 0, p=0.3, channel="call centre", cost=12),
            *_apply((Step("Reserve trade name", "customer", 2, roles=("document_submission",), cost=3),
                     Step("Sign tenancy contract", "customer", 24, p=0.8, roles=("document_submission",), cost=2)),
                    visit=0.8),
            Step("Initial approval", "staff", 24, cost=25),
            Step("Visit service centre", "customer", 48, p=0.6, roles=("visit",), channel="service centre", cost=40),
            Step("Site inspection", "staff", 72, p=0.5, agency="Municipality", cost=120),
            Step("Civil defence approval", "staff", 48, p=0.4, agency="Civil Defence", cost=60),
            *_review(30), *_deliver(0.5),
        ),
        share=0.25, rework=(0.45, 0.3, 0.15, 0.1), p_reject=0.08, p_abandon=0.08,
        redesigned=(
            *_apply((Step("Reserve trade name", "customer", 0.5, roles=("document_submission",), cost=1),), visit=0.1),
            Step("Initial approval", "system", 1, cost=3),
            Step("Site inspection", "staff", 48, p=0.3, agency="Municipality", cost=120),
            *_review(12), *_deliver(0.1),
        ),
        documents={"Upload documents": ("passport copy", "Emirates ID copy", "memorandum of association"),
                   "Reserve trade name": ("trade name application",),
                   "Sign tenancy contract": ("tenancy contract",),
                   "Resubmit documents": ("passport copy", "memorandum of association")},
    ),
    Service(
        "driving_licence_renewal", "Driving licence renewal", "تجديد رخصة القيادة", "Roads and Transport Authority", 12,
        (*_apply((Step("Eye test", "customer", 20, p=0.9, roles=("visit",), channel="service centre", cost=20),),
                 upload=0.5, visit=0.15), *_review(4), *_deliver(0.2)),
        share=0.35, rework=(0.85, 0.12, 0.03, 0.0), p_reject=0.03, p_abandon=0.03,
        channels={"service centre": 0.3, "website": 0.25, "smart app": 0.4, "call centre": 0.05},
        documents={"Upload documents": ("Emirates ID copy", "photo"), "Resubmit documents": ("photo",)},
    ),
    Service(
        "residence_visa_renewal", "Residence visa renewal", "تجديد تأشيرة الإقامة", "Identity and Citizenship Authority", 28,
        (*_apply((Step("Medical fitness test", "customer", 48, roles=("visit",), channel="service centre",
                       agency="Health Authority", cost=50),), visit=0.3),
         Step("Security check", "system", 6, cost=8), *_review(18), *_deliver(0.2)),
        share=0.3, p_reject=0.04,
        documents={"Upload documents": ("passport copy", "photo", "health insurance card"),
                   "Resubmit documents": ("passport copy", "photo")},
    ),
    Service(
        "building_permit", "Building permit", "رخصة البناء", "Municipality", 116,
        (*_apply(visit=0.6), Step("Site inspection", "staff", 96, cost=150),
         Step("Civil defence approval", "staff", 72, agency="Civil Defence", cost=80), *_review(48), *_deliver(0.4)),
        share=0.1, rework=(0.35, 0.35, 0.2, 0.1), p_reject=0.1, p_abandon=0.06,
        channels={"service centre": 0.5, "website": 0.4, "smart app": 0.1},
        documents={"Upload documents": ("title deed", "architectural drawings", "structural drawings", "Emirates ID copy"),
                   "Resubmit documents": ("architectural drawings", "structural drawings")},
    ),
)

#: Life events: bundles of services a customer passes through, in order.
LIFE_EVENTS: dict[str, tuple[str, ...]] = {
    "newborn": ("birth_notification", "birth_certificate", "national_id", "passport", "health_insurance"),
}
