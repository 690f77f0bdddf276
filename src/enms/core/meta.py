"""Table ``instance_info``: facts about this database itself (e.g. that it is a demo)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base


class InstanceInfo(Base):
    """A key/value fact about this enms database."""

    __tablename__ = "instance_info"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
