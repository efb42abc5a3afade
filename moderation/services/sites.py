"""News sites that embed comments: which origins may frame the embed and call the public API,
matched exactly ("https://news.example") or by subdomain ("https://*.news.example")."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from moderation.extensions import db
from moderation.models import Site, User
from moderation.services import admin_log

THEMES = ("auto", "light", "dark")
MAX_ORIGINS = 50
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SiteError(ValueError):
    """The site's settings cannot be saved; the message says why, for a person."""


def parse_origin(text: str, *, wildcard: bool = False) -> str:
    """"https://News.Example:443/" -> "https://news.example". An origin is a scheme, a host
    and a port, nothing else; with `wildcard`, the host may start with "*." (subdomains)."""
    raw = (text or "").strip()
    shown = raw[:80]
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise SiteError(f"“{shown}” is not an origin like https://news.example.") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        raise SiteError(f"“{shown}” is not an origin like https://news.example (http or "
                        "https, a host name, an optional port).")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SiteError(f"“{shown}” has a path; an origin is only https://host[:port].")
    if host.startswith("*.") and not wildcard:
        raise SiteError(f"“{shown}”: a wildcard is not allowed here.")
    if not _HOST.match(host) and not _is_ip(host):
        raise SiteError(f"“{shown}” does not have a valid host name.")
    if host.count("*") and (not host.startswith("*.") or host.count("*") > 1
                            or host.count(".") < 2):
        raise SiteError(f"“{shown}”: a wildcard covers the subdomains of a domain, as in "
                        "https://*.news.example.")
    netloc = host if port in (None, _DEFAULT_PORTS[parts.scheme]) else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}"


def _is_ip(host: str) -> bool:
    return bool(re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host))


def parse_origins(text: str | list[str]) -> list[str]:
    """One origin per line (or a list), normalised, without repeats, in the order given."""
    items = text.splitlines() if isinstance(text, str) else list(text)
    found: list[str] = []
    for item in items:
        if item.strip() and (origin := parse_origin(item, wildcard=True)) not in found:
            found.append(origin)
    if len(found) > MAX_ORIGINS:
        raise SiteError(f"A site has at most {MAX_ORIGINS} origins.")
    return found


def origin_matches(pattern: str, origin: str) -> bool:
    """`origin` (as a browser sends it) is `pattern`, or a subdomain of a wildcard pattern."""
    if "*." not in pattern:
        return pattern == origin
    scheme, _, rest = pattern.partition("://*.")
    prefix = f"{scheme}://"
    if not origin.startswith(prefix):
        return False
    host_port = origin[len(prefix):]
    return host_port.endswith("." + rest) and len(host_port) > len(rest) + 1 \
        and "/" not in host_port


def _example(pattern: str) -> str:
    """An origin a pattern covers: itself, or one subdomain of a wildcard's domain."""
    return pattern.replace("://*.", "://x.", 1)


def origins_overlap(first: str, second: str) -> bool:
    """Some origin would match both patterns: the same origin, a wildcard covering the other,
    or two wildcards one of whose domains is inside the other's."""
    return origin_matches(first, _example(second)) or origin_matches(second, _example(first))


def _check_no_overlap(site: Site | None, origins: list[str]) -> None:
    """An origin belongs to one site: otherwise site_for_origin would pick one by name."""
    for other in all_sites():
        if other is site:
            continue
        for ours in origins:
            theirs = next((pattern for pattern in other.origins or []
                           if origins_overlap(ours, pattern)), None)
            if theirs is not None:
                raise SiteError(f"The origin {ours} overlaps {theirs}, which the site "
                                f"“{other.name}” already has: each origin belongs to one site, "
                                "so the embed knows whose page it is on.")


def normal_origin(origin: str | None) -> str | None:
    """A browser's Origin header, normalised; None when absent, "null" or not an origin."""
    if not origin or origin == "null":
        return None
    try:
        return parse_origin(origin)
    except SiteError:
        return None


def allows(site: Site, origin: str | None) -> bool:
    origin = normal_origin(origin)
    return origin is not None and any(origin_matches(pattern, origin)
                                      for pattern in site.origins or [])


def site_for_origin(origin: str | None) -> Site | None:
    """The site whose allowed origins include this one (sites are few: read them all)."""
    origin = normal_origin(origin)
    if origin is None:
        return None
    for site in all_sites():
        if any(origin_matches(pattern, origin) for pattern in site.origins or []):
            return site
    return None


def all_sites() -> list[Site]:
    return list(db.session.execute(db.select(Site).order_by(Site.name)).scalars())


def get_site(site_id: int) -> Site | None:
    return db.session.get(Site, site_id)


def _settings(site: Site) -> dict:
    return {"name": site.name, "origins": list(site.origins or []),
            "allow_anonymous": site.allow_anonymous, "auto_register": site.auto_register,
            "sso": bool(site.sso_secret), "theme": site.theme, "font": site.font}


def _validated(name: str, theme: str, font: str | None, sso_secret: str | None) -> tuple:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise SiteError("A site's name is 1 to 120 characters.")
    if theme not in THEMES:
        raise SiteError("The theme is auto, light or dark.")
    font = (font or "").strip() or None
    if font and (len(font) > 200 or not re.fullmatch(r"[\w\s,\"'-]+", font)):
        raise SiteError("The font is a CSS font-family list, such as Georgia, serif.")
    sso_secret = (sso_secret or "").strip() or None
    if sso_secret and len(sso_secret) < 32:
        raise SiteError("The sign-in secret is at least 32 characters (make one with "
                        "`openssl rand -hex 32`).")
    return name, theme, font, sso_secret


def save(actor: User | None, site: Site | None, *, name: str, origins, allow_anonymous: bool,
         auto_register: bool, theme: str = "auto", font: str | None = None,
         sso_secret: str | None = None, keep_secret: bool = True) -> Site:
    """Create (`site` None) or update a site. With `keep_secret`, an empty `sso_secret` keeps
    the one it has (a form never shows the secret back)."""
    name, theme, font, sso_secret = _validated(name, theme, font, sso_secret)
    origins = parse_origins(origins)
    clash = db.session.execute(db.select(Site).where(Site.name == name)).scalar_one_or_none()
    if clash is not None and clash is not site:
        raise SiteError(f"There is already a site called “{name}”.")
    _check_no_overlap(site, origins)
    before = _settings(site) if site is not None else None
    if site is None:
        site = Site(name=name)
        db.session.add(site)
    site.name, site.origins, site.theme, site.font = name, origins, theme, font
    site.allow_anonymous, site.auto_register = bool(allow_anonymous), bool(auto_register)
    if sso_secret or not keep_secret:
        site.sso_secret = sso_secret
    db.session.flush()
    admin_log.record(actor, "site.create" if before is None else "site.update",
                     f"site {site.name}", before=before, after=_settings(site))
    return site
