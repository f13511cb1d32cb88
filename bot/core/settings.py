"""Configuration of the hub, from environment variables with working local defaults."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import ConfigurationError
from bot.domain.production_guard import DEV_CHANNEL_SECRET, DEV_RASA_TOKEN
from bot.store.agents import ONLINE_SECONDS
from bot.store.database import database_url
from bot.store.login_attempts import LoginLimits

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FEEDBACK_QUESTIONS = ("csat", "nps")
RASA_ACTION_TIMEOUT_SECONDS = 300
"""How long Rasa 3.6 waits for the action server (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT); the hub keeps
waiting for a slow turn a little longer than that, so it never declares failed a turn that then finishes."""
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclasses.dataclass(frozen=True)
class BusinessHours:
    """When agents work, e.g. `Mon-Fri 09:00-18:00 Europe/London`; `always` means around the clock."""

    days: frozenset[int]
    opens: dt.time
    closes: dt.time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str) -> BusinessHours | None:
        text = text.strip()
        if text.lower() in {"", "always", "24/7"}:
            return None
        match = re.fullmatch(r"(\w{3})-(\w{3})\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s+(\S+)", text)
        if not match or match.group(1).lower() not in DAYS or match.group(2).lower() not in DAYS:
            raise ConfigurationError(f"BUSINESS_HOURS must look like 'Mon-Fri 09:00-18:00 Europe/London', not {text!r}")
        first, last = DAYS.index(match.group(1).lower()), DAYS.index(match.group(2).lower())
        days = {d % 7 for d in range(first, last + 1 if last >= first else last + 8)}
        try:
            zone = ZoneInfo(match.group(7))
        except ZoneInfoNotFoundError as exc:
            raise ConfigurationError(f"BUSINESS_HOURS names an unknown time zone {match.group(7)!r}") from exc
        opens = dt.time(int(match.group(3)), int(match.group(4)))
        closes = dt.time(int(match.group(5)), int(match.group(6)))
        return cls(frozenset(days), opens, closes, zone)

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.zone)
        return local.weekday() in self.days and self.opens <= local.time() < self.closes


@dataclasses.dataclass(frozen=True)
class TelegramSettings:
    """The Telegram channel: off without a token; webhook mode needs the hub's public https URL."""

    token: str
    mode: str
    webhook_url: str
    webhook_secret: str
    api_url: str
    poll_timeout: int

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramSettings:
        webhook_url = env.get("TELEGRAM_WEBHOOK_URL", "").strip().rstrip("/")
        mode = env.get("TELEGRAM_MODE", "webhook" if webhook_url else "polling").strip().lower()
        if mode not in {"webhook", "polling"}:
            raise ConfigurationError(f"TELEGRAM_MODE must be 'webhook' or 'polling', not {mode!r}")
        if mode == "webhook" and not webhook_url.startswith("https://"):
            raise ConfigurationError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL, the hub's public https URL")
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ConfigurationError("TELEGRAM_WEBHOOK_SECRET may only use A-Z, a-z, 0-9, _ and - (1-256 characters)")
        return cls(
            token=env.get("TELEGRAM_TOKEN", "").strip(),
            mode=mode,
            webhook_url=webhook_url,
            webhook_secret=secret,
            api_url=env.get("TELEGRAM_API_URL", "https://api.telegram.org").strip().rstrip("/"),
            poll_timeout=_int(env, "TELEGRAM_POLL_TIMEOUT", 30),
        )


@dataclasses.dataclass(frozen=True)
class HubSettings:
    host: str
    port: int
    database_url: str
    rasa_url: str
    rasa_token: str
    actions_url: str
    rasa_timeout: float
    rasa_turn_deadline: float
    routing_sweep_seconds: float
    channel_secret: str
    max_message_chars: int
    max_frame_bytes: int
    business_hours: BusinessHours | None
    auto_assign: bool
    default_capacity: int
    refund_limit: str
    voucher_limit: str
    supervisor_refund_limit: str
    supervisor_voucher_limit: str
    session_hours: int
    public_url: str
    """Where browsers reach the hub (scheme://host[:port]); https makes the session cookie Secure and adds HSTS."""
    heartbeat_seconds: int
    login_limits: LoginLimits
    seed_demo_agent: bool
    review_confidence: float
    conversation_idle_minutes: int
    feedback_questions: tuple[str, ...]
    project_dir: Path
    telegram: TelegramSettings
    redis_url: str
    """Empty: this hub runs alone and coordinates in its own memory. Set (redis://host:6379/0): several hubs share
    the event bus, the per-conversation order, the reload gate and Telegram's leases through this Redis."""
    redis_prefix: str
    """Prefix of every Redis key and channel: one Redis can serve several shops (or test runs)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubSettings:
        env = os.environ if env is None else env
        return cls(
            host=env.get("HUB_HOST", "127.0.0.1"),
            port=_int(env, "HUB_PORT", 8080),
            database_url=env.get("DATABASE_URL", database_url()),
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_token=env.get("RASA_TOKEN", DEV_RASA_TOKEN),
            actions_url=env.get("ACTIONS_URL", "http://127.0.0.1:5055").rstrip("/"),
            rasa_timeout=float(_int(env, "RASA_TIMEOUT_MS", 10000)) / 1000,
            rasa_turn_deadline=float(_int(env, "RASA_TURN_DEADLINE_SECONDS", RASA_ACTION_TIMEOUT_SECONDS + 30)),
            routing_sweep_seconds=float(_int(env, "ROUTING_SWEEP_MS", 5000)) / 1000,
            channel_secret=env.get("CHANNEL_SECRET", DEV_CHANNEL_SECRET),
            max_message_chars=_int(env, "MAX_MESSAGE_CHARS", 4000),
            max_frame_bytes=_int(env, "MAX_FRAME_BYTES", 64 * 1024),
            business_hours=BusinessHours.parse(env.get("BUSINESS_HOURS", "always")),
            auto_assign=env.get("AUTO_ASSIGN", "false").lower() in {"1", "true", "yes"},
            default_capacity=_int(env, "AGENT_CAPACITY", 3),
            refund_limit=env.get("AGENT_REFUND_LIMIT", "100.00"),
            voucher_limit=env.get("AGENT_VOUCHER_LIMIT", "25.00"),
            supervisor_refund_limit=env.get("SUPERVISOR_REFUND_LIMIT", "500.00"),
            supervisor_voucher_limit=env.get("SUPERVISOR_VOUCHER_LIMIT", "100.00"),
            session_hours=_int(env, "AGENT_SESSION_HOURS", 12),
            public_url=_public_url(env),
            heartbeat_seconds=_heartbeat_seconds(env),
            login_limits=LoginLimits(
                per_account=_int(env, "LOGIN_FAILURES_PER_ACCOUNT", 5),
                per_address=_int(env, "LOGIN_FAILURES_PER_ADDRESS", 20),
                window=dt.timedelta(minutes=_int(env, "LOGIN_WINDOW_MINUTES", 15)),
            ),
            seed_demo_agent=env.get("SEED_DEMO_AGENT", "true").lower() in {"1", "true", "yes"},
            review_confidence=_fraction(env, "REVIEW_CONFIDENCE", 0.7),
            conversation_idle_minutes=_int(env, "CONVERSATION_IDLE_MINUTES", 24 * 60),
            feedback_questions=_feedback_questions(env.get("FEEDBACK_QUESTIONS", "csat")),
            project_dir=Path(env.get("FRONTLINE_PROJECT_DIR", str(PROJECT_ROOT))).resolve(),
            telegram=TelegramSettings.from_env(env),
            redis_url=_redis_url(env),
            redis_prefix=_redis_prefix(env),
        )


def _public_url(env: Mapping[str, str]) -> str:
    default = f"http://{env.get('HUB_HOST', '127.0.0.1')}:{env.get('HUB_PORT', '8080')}"
    url = env.get("PUBLIC_URL", default).strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.path or parsed.query:
        raise ConfigurationError(f"PUBLIC_URL must look like https://support.example.com, not {url!r}")
    return url


def _redis_url(env: Mapping[str, str]) -> str:
    url = env.get("REDIS_URL", "").strip()
    if url and urlparse(url).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigurationError(f"REDIS_URL must look like redis://127.0.0.1:6379/0, not {url!r}")
    return url


def _redis_prefix(env: Mapping[str, str]) -> str:
    prefix = env.get("REDIS_PREFIX", "frontline").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", prefix):
        raise ConfigurationError("REDIS_PREFIX may only use A-Z, a-z, 0-9, _, . and - (1-64 characters)")
    return prefix


def _heartbeat_seconds(env: Mapping[str, str]) -> int:
    """How often an open console proves it is online and its session still valid: within ONLINE_SECONDS."""
    seconds = _int(env, "AGENT_HEARTBEAT_SECONDS", 20)
    if seconds >= ONLINE_SECONDS:
        raise ConfigurationError(f"AGENT_HEARTBEAT_SECONDS must be under {ONLINE_SECONDS}, when agents count as gone")
    return seconds


def _feedback_questions(raw: str) -> tuple[str, ...]:
    """`csat` (1-5 stars), `nps` (0-10, how likely to recommend us), or both in the order they are asked."""
    questions = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    if not questions or not set(questions) <= set(FEEDBACK_QUESTIONS):
        raise ConfigurationError(f"FEEDBACK_QUESTIONS must be csat, nps or csat,nps, not {raw!r}")
    return questions


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from exc
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive")
    return value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, str(default))
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number between 0 and 1, not {raw!r}") from exc
    if not 0 < value <= 1:
        raise ConfigurationError(f"{name} must be between 0 and 1")
    return value
