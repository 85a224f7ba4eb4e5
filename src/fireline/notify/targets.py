"""Where notifications may go: checks on webhook and Slack URLs and on email addresses.

A webhook URL is typed by a user but called by the server, so an unchecked one lets anyone who can
add a channel make Fireline request its own internal network (a cloud metadata service, an admin
port on loopback). The URL is checked twice: `check_url` when it is saved (no DNS, so a form
answers at once and the verdict does not change with the resolver), and
`resolved_addresses_allowed` just before each send, so a public name that resolves to an internal
address is refused too. Operators who do want an intranet chat server set
FIRELINE_WEBHOOK_ALLOW_PRIVATE_TARGETS, which turns both address checks off.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from email_validator import EmailNotValidError, validate_email

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALLOW_HINT = (
    "Fireline only calls public addresses; an administrator can allow private ones with "
    "FIRELINE_WEBHOOK_ALLOW_PRIVATE_TARGETS."
)
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: an IPv4 address in the low 32 bits


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL, normalised (scheme and host in lower case, surrounding spaces removed), if
    Fireline may call it; otherwise ValueError with a sentence a user can act on.

    Host names are not resolved here; `resolved_addresses_allowed` does that at send time."""
    text = url.strip()
    if not text:
        raise ValueError("Enter a URL.")
    if any(character.isspace() or ord(character) < 32 for character in text):
        raise ValueError("The URL must not contain spaces or line breaks.")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise ValueError("The URL is not valid; check the host name and port.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError("The URL must start with https:// (or http://).")
    if "@" in parts.netloc:
        raise ValueError(
            "The URL must not contain a user name or password; put credentials in the path "
            "or use the signing secret."
        )
    if not host:
        raise ValueError("The URL needs a host name, as in https://hooks.example.com/….")
    if port == 0:
        raise ValueError("The port in the URL must be a number from 1 to 65535.")
    if parts.fragment or text.endswith("#"):
        raise ValueError("The URL must not have a #fragment; it is never sent to the server.")
    host = _ascii_host(host)
    if not allow_private:
        _refuse_private_host(host)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path, parts.query, ""))


def resolved_addresses_allowed(host: str, port: int, *, allow_private: bool) -> None:
    """Return quietly when every address `host` resolves to may be called; raise ValueError
    naming the first one that may not. A failed lookup raises OSError (socket.gaierror), which
    callers treat as transient: DNS trouble passes, a private address does not."""
    if allow_private:
        return
    allowed_addresses(host, port, allow_private=False)


def allowed_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order of preference, after checking
    each as `resolved_addresses_allowed` does. Connecting to one of these (rather than resolving
    the name again) is what stops a name that answers differently the second time."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _protocol, _name, sockaddr in found:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not allow_private:
        for address in addresses:
            why = _why_not_public(ipaddress.ip_address(address.partition("%")[0]))
            if why:
                raise ValueError(f"{host} resolves to {address}, {why}. {_ALLOW_HINT}")
    return addresses


def check_email(address: str) -> str:
    """The address normalised (domain in lower case) if it can receive notification email;
    otherwise ValueError with email-validator's explanation. Only the syntax is checked: whether
    the domain accepts mail is the SMTP server's to say, at send time."""
    if "\r" in address or "\n" in address:
        raise ValueError("The email address must not contain line breaks.")
    try:
        checked = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    return checked.normalized


def _ascii_host(host: str) -> str:
    """The host in the form that goes on the wire: IDNA for international names."""
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("The host name in the URL is not valid.") from None


def _refuse_private_host(host: str) -> None:
    if host == "localhost" or host.endswith(".localhost"):
        raise ValueError(f"The URL points at {host}, this server itself. {_ALLOW_HINT}")
    address = _ip_literal(host)
    if address is None:
        return
    why = _why_not_public(address)
    if why:
        raise ValueError(f"The URL points at {host}, {why}. {_ALLOW_HINT}")


def _ip_literal(host: str) -> IPAddress | None:
    """The address when `host` is written as one, including the legacy IPv4 spellings
    (`2130706433`, `0x7f.1`, `127.1`) that resolvers still accept."""
    try:
        return ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _why_not_public(address: IPAddress) -> str | None:
    """What kind of non-public address this is, in words, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _why_not_public(embedded)
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address (cloud metadata services live there)"),
        (address.is_multicast, "a multicast address"),
        (address in _SHARED_ADDRESS_SPACE, "a carrier-grade NAT (shared) address"),
        (
            isinstance(address, ipaddress.IPv6Address) and address.is_site_local,
            "a private-network address",
        ),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private-network address"),
        (not address.is_global, "an address that is not publicly routable"),
    )
    return next((why for matches, why in checks if matches), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), since that is where the
    packets end up."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
