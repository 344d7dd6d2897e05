"""Every model, imported in one place so Alembic and `db.create_all()` see the whole schema."""
from .audit.models import AuditEvent  # noqa: F401
from .auth.models import ApiToken, User  # noqa: F401
from .cases.models import Case, CaseEvent, EarlyWarning, Person, RuleSetting  # noqa: F401
from .contacts.models import Contact  # noqa: F401
from .directory.models import Community, Precinct  # noqa: F401
from .followups.models import FollowUp  # noqa: F401
from .imports.models import Push, PushRowError  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .reports.models import WeeklyReport  # noqa: F401
