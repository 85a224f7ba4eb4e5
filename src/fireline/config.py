"""Settings, read from FIRELINE_* environment variables (and a `.env` file when present)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/fireline.db"


def normalise_database_url(url: str) -> str:
    """Accept the plain forms people write and name the driver Fireline uses for each database."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+pysqlite://" + url[len("sqlite://") :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIRELINE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLite (`sqlite:///path`) or PostgreSQL (`postgresql://user@host/db`).",
    )
    host: str = Field(default="127.0.0.1", description="Address the web server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the web server listens on.")
    workers: int = Field(default=1, ge=1, le=64, description="Web processes for `fireline serve`.")
    server: Literal["uvicorn", "granian"] = Field(
        default="uvicorn",
        description="The HTTP server `fireline serve` runs: uvicorn, or granian (about twice the "
        "requests per second on small answers such as the status page's JSON).",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public URL, used in links and emails."
    )
    secret_key: str = Field(
        default="",
        description="Signs sessions and secrets. Generated into `var/secret_key` when empty.",
    )
    data_dir: Path = Field(default=Path("var"), description="Where embedded-mode files live.")
    admin_email: str = Field(
        default="admin@example.com",
        description="Email of the admin created on the first start with an empty database.",
    )
    session_ttl_hours: int = Field(default=12, ge=1, description="Web session lifetime.")
    cookie_secure: bool = Field(default=False, description="Mark session cookies Secure (HTTPS).")
    db_pool_size: int = Field(default=10, ge=1, description="Connections per web process.")
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    access_log: bool = Field(default=True, description="Log every request.")
    embedded_worker: bool = Field(
        default=True,
        description="Run the job worker inside the web process. Turn it off when `fireline worker` "
        "processes run the jobs.",
    )

    smtp_host: str = Field(
        default="", description="SMTP server for email notifications; email is off when empty."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_username: str = Field(default="", description="SMTP login; none when empty.")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="`starttls` (port 587), `tls` (implicit TLS, port 465) or `none` (a local "
        "relay).",
    )
    smtp_from: str = Field(
        default="Fireline <fireline@localhost>", description="From address of notification email."
    )
    smtp_timeout: float = Field(default=10.0, gt=0, description="Seconds per SMTP conversation.")
    webhook_timeout: float = Field(default=10.0, gt=0, description="Seconds per webhook request.")
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Let webhooks and Slack-format channels call loopback and private-network "
        "addresses (an intranet chat server, say). Off, only public addresses are called.",
    )

    # alerts
    ingest_rate_limit_per_minute: int = Field(
        default=6000,
        ge=1,
        description="Alert events each integration key may send per minute (with bursts up to "
        "a minute's worth) before it gets 429; an integration may set its own limit. Counted "
        "per web process.",
    )

    # jobs
    job_reconcile_minutes: int = Field(
        default=10,
        ge=1,
        description="How often workers set again any response timer of an open incident that "
        "has gone missing.",
    )
    job_prune_minutes: int = Field(
        default=60, ge=1, description="How often workers delete old succeeded jobs."
    )
    job_retention_days: int = Field(
        default=7,
        ge=1,
        description="Succeeded jobs are deleted this many days after they finished; dead jobs "
        "are kept until retried.",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured secret key, or one kept in the data directory for embedded mode."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Created private from the start (writing, then chmod, leaves it readable for a moment),
        # and only if absent: when two processes start at once, both use the first one's key.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as file:
            file.write(key)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
