from crm.platform.db import run_migrations_env
from crm.services.sales_activity.models import Base

run_migrations_env(Base.metadata)
