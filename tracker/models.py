"""Every model, imported in one place so Alembic and the app see the whole schema."""
from tracker.audit.models import AuditEvent  # noqa: F401
from tracker.auth.models import ApiToken, Membership, PasswordResetToken, Role, SignInAttempt, User  # noqa: F401
from tracker.committees.models import Committee, CommitteeMember, Meeting  # noqa: F401
from tracker.frameworks.models import Framework, FrameworkItem, Theme  # noqa: F401
from tracker.partnerships.models import Organisation, OrganisationAlias, Partnership  # noqa: F401
from tracker.plans.models import Action, Plan, ProgressUpdate, UpdateCorrection  # noqa: F401
from tracker.selfeval.models import ProposedAction, Rating, SelfEvaluationRound  # noqa: F401
from tracker.indicators.models import Indicator, IndicatorBreakdown, IndicatorTarget, IndicatorValue  # noqa: F401
from tracker.workbooks.models import IssuedWorkbook, ReturnUpload  # noqa: F401
from tracker.imports.models import ImportJob  # noqa: F401
from tracker.reminders.models import (  # noqa: F401
    PartnershipReminderSettings,
    ReminderMessage,
    ReminderPreference,
    ReminderSend,
)
from tracker.scheduler.models import SchedulerHeartbeat  # noqa: F401
from tracker.jobs.models import Job  # noqa: F401
from tracker.plans.stamps import NameStamp  # noqa: F401
from tracker.risks.models import Risk, RiskMatrix, RiskReminder, RiskReview  # noqa: F401
from tracker.scrutiny.models import AuditReport, Grade, GradeScheme, Recommendation  # noqa: F401
from tracker.evidence.models import Evidence  # noqa: F401
from tracker.once import FormToken  # noqa: F401
from tracker.auth.kept_forms import KeptForm  # noqa: F401
