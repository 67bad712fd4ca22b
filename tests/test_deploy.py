"""deploy/: the compose file's commented lines become valid YAML when uncommented the way
deploy/README.md says (delete "# ", hash and space); the ports of the web chat and the webhook;
the reverse proxy (nginx.conf, Caddyfile) logs no visit, passes on no address, serves HTTPS with
HSTS and a small body limit, and sends the live messages (/e) unbuffered."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.channels.telegram.app import SHUTDOWN_AT_LEAST, STOP_WITHIN
from bot.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
UNCOMMENT = "delete `# ` (the hash and the space after it)"


def uncommented(text: str, *starts: str) -> str:
    """`text` with "# " deleted in front of each line that then starts with one of `starts`."""
    lines = []
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        rest = line.lstrip()
        if rest.startswith("# ") and rest[2:].lstrip().startswith(starts):
            line = indent + rest[2:]
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_the_guide_says_to_delete_the_hash_and_the_space() -> None:
    guide = " ".join((DEPLOY / "README.md").read_text(encoding="utf-8").split())

    assert guide.count(UNCOMMENT) == 2  # the config mount (section 3) and the port (section 5)
    assert "remove the `#`" not in guide


def test_the_config_mount_and_the_port_uncommented_are_valid_compose() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")

    compose = yaml.safe_load(uncommented(text, "- ./config.yaml:", '- "127.0.0.1:8081:8081"'))

    service = compose["services"]["wegweiser"]
    assert service["volumes"] == ["data:/data", "./config.yaml:/etc/wegweiser/config.yaml:ro"]
    assert service["ports"] == ["127.0.0.1:8080:8080", "127.0.0.1:8081:8081"]
    assert service["logging"]["driver"] == "json-file"


def test_every_way_to_run_it_gives_the_bot_more_time_to_stop_than_it_takes() -> None:
    """The bot stops within 8 s of SIGTERM (tests/channels/telegram/test_run.py measures it);
    compose, systemd and docker wait 10 s before they kill it."""
    assert STOP_WITHIN + SHUTDOWN_AT_LEAST <= 8 - 1  # a second for the process to end
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["wegweiser"]
    assert service["stop_signal"] == "SIGTERM"
    assert service["stop_grace_period"] == "10s"
    unit = (DEPLOY / "wegweiser.service").read_text(encoding="utf-8").splitlines()
    assert "TimeoutStopSec=10s" in unit
    assert "KillSignal=SIGTERM" in unit
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert "STOPSIGNAL SIGTERM" in dockerfile


# ---- the web chat's ports ------------------------------------------------------------------


def test_compose_publishes_the_web_chat_and_the_webhook_on_this_machine_only() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")

    assert yaml.safe_load(text)["services"]["wegweiser"]["ports"] == ["127.0.0.1:8080:8080"]
    webhook = yaml.safe_load(uncommented(text, '- "127.0.0.1:8081:8081"'))
    assert webhook["services"]["wegweiser"]["ports"] == [
        "127.0.0.1:8080:8080",
        "127.0.0.1:8081:8081",
    ]


def test_the_image_listens_on_every_address_and_the_unit_on_this_machine_only() -> None:
    """Inside a container 127.0.0.1 cannot be reached through a published port; outside one
    the web chat and the webhook stay on 127.0.0.1, behind the reverse proxy. The webhook's
    default port is the web chat's, so both files move it."""
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    image = dict(re.findall(r"(WEGWEISER_\w+)=(\S+)", dockerfile))
    assert image["WEGWEISER_WEB_LISTEN"] == image["WEGWEISER_WEBHOOK_LISTEN"] == "0.0.0.0"
    assert (image["WEGWEISER_WEB_PORT"], image["WEGWEISER_WEBHOOK_PORT"]) == ("8080", "8081")
    assert "EXPOSE 8080 8081" in dockerfile.splitlines()

    unit_lines = (DEPLOY / "wegweiser.service").read_text(encoding="utf-8").splitlines()
    environment = " ".join(line for line in unit_lines if line.startswith("Environment="))
    unit = dict(re.findall(r"(WEGWEISER_\w+)=(\S+)", environment))
    assert unit["WEGWEISER_WEB_LISTEN"] == unit["WEGWEISER_WEBHOOK_LISTEN"] == "127.0.0.1"
    assert (unit["WEGWEISER_WEB_PORT"], unit["WEGWEISER_WEBHOOK_PORT"]) == ("8080", "8081")


def test_example_env_lists_the_web_chat_settings() -> None:
    text = (DEPLOY / "example.env").read_text(encoding="utf-8")

    for line in (
        "# WEGWEISER_WEB_LISTEN=127.0.0.1",
        "# WEGWEISER_WEB_PORT=8080",
        "# WEGWEISER_WEB_EXIT_URL=",
    ):
        assert line in text


# ---- the reverse proxy: nginx ----------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def all(self, name: str) -> list[Directive]:
        return [directive for directive in self.block or [] if directive.name == name]

    def one(self, name: str) -> Directive:
        found = self.all(name)
        assert len(found) == 1, f"{self.name} {self.args}: {len(found)} x {name}"
        return found[0]


def parse_nginx(text: str) -> list[Directive]:
    """nginx's configuration as directives with their arguments and blocks (comments left out,
    quotes taken off)."""
    tokens = [
        token
        for token in re.findall(r'"(?:[^"\\]|\\.)*"|#[^\n]*|[{};]|[^\s{};"#]+', text)
        if not token.startswith("#")
    ]
    position = 0

    def block() -> list[Directive]:
        nonlocal position
        directives = []
        while position < len(tokens) and tokens[position] != "}":
            words = []
            while tokens[position] not in ("{", ";"):
                words.append(tokens[position].strip('"'))
                position += 1
            position += 1
            if tokens[position - 1] == "{":
                directives.append(Directive(words[0], words[1:], block()))
                assert tokens[position] == "}"
                position += 1
            else:
                directives.append(Directive(words[0], words[1:]))
        return directives

    directives = block()
    assert position == len(tokens), "unbalanced braces"
    return directives


def walk(directives: list[Directive]) -> list[Directive]:
    found = []
    for directive in directives:
        found.append(directive)
        found.extend(walk(directive.block or []))
    return found


NGINX_WEBHOOK = (
    "location = /telegram",
    "client_max_body_size 1m",
    "client_body_buffer_size 1m",
    "proxy_pass http://127.0.0.1:8081",
    "}",
)


def nginx_config(webhook: bool = False) -> list[Directive]:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    return parse_nginx(uncommented(text, *NGINX_WEBHOOK) if webhook else text)


def https_server(config: list[Directive]) -> Directive:
    servers = [
        server
        for server in config
        if server.name == "server" and any("443" in d.args[0] for d in server.all("listen"))
    ]
    assert len(servers) == 1
    return servers[0]


def size(text: str) -> int:
    units = {"k": 1024, "m": 1024 * 1024}
    return int(text[:-1]) * units[text[-1].lower()] if text[-1].isalpha() else int(text)


def seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(text[:-1]) * units[text[-1]] if text[-1].isalpha() else int(text)


@pytest.mark.parametrize("webhook", [False, True], ids=["web chat", "with the webhook"])
def test_nginx_logs_no_visit_and_passes_no_address(webhook: bool) -> None:
    config = nginx_config(webhook)
    every = walk(config)

    servers = [directive for directive in config if directive.name == "server"]
    assert len(servers) == 2  # http:// (a redirect) and https://
    for server in servers:
        assert server.one("access_log").args == ["off"]
        assert server.one("error_log").args[1:] == ["crit"]  # error lines name the client
    for log_format in (d for d in every if d.name == "log_format"):
        for variable in ("$remote_addr", "$request_uri", "$http_user_agent", "$http_x_forw"):
            assert not any(variable in arg for arg in log_format.args), log_format
    assert not [d for d in every if d.name == "access_log" and d.args != ["off"]]
    headers = {d.args[0].lower(): d.args[1:] for d in every if d.name == "proxy_set_header"}
    assert headers["x-forwarded-for"] == headers["x-real-ip"] == headers["forwarded"] == [""]
    for directive in every:
        assert not any("$remote_addr" in a or "$proxy_add_x" in a for a in directive.args)


@pytest.mark.parametrize("webhook", [False, True], ids=["web chat", "with the webhook"])
def test_nginx_serves_https_with_hsts_a_small_body_and_the_paths_unchanged(
    webhook: bool,
) -> None:
    config = nginx_config(webhook)
    server = https_server(config)

    assert all("ssl" in listen.args for listen in server.all("listen"))
    name, value, *flags = server.one("add_header").args
    assert name == "Strict-Transport-Security" and flags == ["always"]
    assert int(re.fullmatch(r"max-age=(\d+)", value)[1]) >= 365 * 24 * 3600  # type: ignore[index]
    body = size(server.one("client_max_body_size").args[0])
    assert body <= 16 * 1024
    assert size(server.one("client_body_buffer_size").args[0]) >= body  # never to disk
    assert server.one("proxy_max_temp_file_size").args == ["0"]
    locations = {tuple(location.args): location for location in server.all("location")}
    passes = {place: where.one("proxy_pass").args for place, where in locations.items()}
    web = ["http://127.0.0.1:8080"]  # no path after the port: the paths go through unchanged
    expected = {("/",): web, ("=", "/e"): web}
    if webhook:
        expected[("=", "/telegram")] = ["http://127.0.0.1:8081"]
        telegram = locations[("=", "/telegram")]
        assert size(telegram.one("client_body_buffer_size").args[0]) >= size(
            telegram.one("client_max_body_size").args[0]
        )
    assert passes == expected
    plain = next(d for d in config if d.name == "server" and d is not server)
    assert plain.one("return").args == ["301", "https://chat.example.org$request_uri"]


def test_nginx_limits_each_client_in_its_memory_as_the_app_sees_no_address() -> None:
    config = nginx_config()
    zone = next(d for d in config if d.name == "limit_req_zone")
    (chat,) = [d for d in https_server(config).all("location") if d.args == ["/"]]

    assert zone.args[0] == "$binary_remote_addr"
    assert chat.one("limit_req").args[0] == "zone=" + zone.args[1].split("=")[1].split(":")[0]


def test_nginx_sends_the_live_messages_unbuffered_and_keeps_them_open() -> None:
    events = https_server(nginx_config()).all("location")
    location = next(location for location in events if location.args == ["=", "/e"])

    assert location.one("proxy_buffering").args == ["off"]
    assert seconds(location.one("proxy_read_timeout").args[0]) >= 3600
    # A proxy_set_header here would drop every one of the server's (nginx inherits them only
    # into a block that sets none), and with them the empty X-Forwarded-For.
    assert location.all("proxy_set_header") == []
    assert location.all("add_header") == []  # the same for the HSTS header


def test_the_nginx_webhook_lines_are_five_as_the_comment_says() -> None:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    changed = [
        (old, new)
        for old, new in zip(
            text.splitlines(), uncommented(text, *NGINX_WEBHOOK).splitlines(), strict=True
        )
        if old != new
    ]

    assert len(changed) == 5
    assert 'delete "# " (hash and space) in front of the five lines' in text


@pytest.mark.skipif(
    shutil.which("nginx") is None,
    reason="nginx is not installed (apt-get install nginx-light): its own check of "
    "deploy/nginx.conf is left out; the other nginx tests read the file",
)
@pytest.mark.parametrize("webhook", [False, True], ids=["web chat", "with the webhook"])
def test_nginx_itself_accepts_the_configuration(tmp_path: Path, webhook: bool) -> None:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    if webhook:
        text = uncommented(text, *NGINX_WEBHOOK)
    certificate, key = self_signed(tmp_path)
    site = tmp_path / "wegweiser.conf"
    site.write_text(
        text.replace("/etc/letsencrypt/live/chat.example.org/fullchain.pem", str(certificate))
        .replace("/etc/letsencrypt/live/chat.example.org/privkey.pem", str(key))
        .replace("/var/log/nginx/", f"{tmp_path}/"),
        encoding="utf-8",
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include {site};\n}}\n",
        encoding="utf-8",
    )

    run = subprocess.run(
        ["nginx", "-t", "-q", "-p", f"{tmp_path}/", "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    assert "warn" not in run.stderr, run.stderr


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for chat.example.org and its key, as PEM files in `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chat.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


# ---- the reverse proxy: Caddy ---------------------------------------------------------------

CADDY_WEBHOOK = (
    "handle /telegram",
    "request_body",
    "max_size 1MB",
    "reverse_proxy 127.0.0.1:8081",
    "header_up -X-Forwarded-For",
    "}",
)


def parse_caddyfile(text: str) -> list[Directive]:
    """A Caddyfile as directives: one a line, a `{` at its end opens a block, `}` closes it."""
    root: list[Directive] = []
    stack = [root]
    for line in text.splitlines():
        words = re.findall(r'"[^"]*"|[^\s"]+', line.split("#", 1)[0] if "#" in line else line)
        words = [word.strip('"') for word in words]
        if not words:
            continue
        if words == ["}"]:
            stack.pop()
            continue
        opens = words[-1] == "{"
        directive = Directive(words[0], words[1:-1] if opens else words[1:], [] if opens else None)
        if words == ["{"]:  # the global options block
            directive = Directive("", [], [])
        stack[-1].append(directive)
        if directive.block is not None:
            stack.append(directive.block)
    assert len(stack) == 1, "unbalanced braces"
    return root


def caddyfile(webhook: bool = False) -> str:
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    return uncommented(text, *CADDY_WEBHOOK) if webhook else text


@pytest.mark.parametrize("webhook", [False, True], ids=["web chat", "with the webhook"])
def test_caddy_logs_no_visit_and_passes_no_address(webhook: bool) -> None:
    options, site = parse_caddyfile(caddyfile(webhook))

    assert options.name == "" and site.name == "chat.example.org"
    # Caddy writes an access log only for a site with a `log` directive; its error lines
    # about requests (with the client's address) are left out of its own log.
    assert [d for d in walk(site.block or []) if d.name == "log"] == []
    assert [(d.name, d.args) for d in walk(options.block or [])] == [
        ("log", ["default"]),
        ("exclude", ["http.log.error"]),
    ]
    proxies = [d for d in walk(site.block or []) if d.name == "reverse_proxy"]
    assert len(proxies) == (2 if webhook else 1)
    for proxy in proxies:
        assert ["-X-Forwarded-For"] in [d.args for d in proxy.all("header_up")]
    assert "remote" not in caddyfile(webhook).replace("# ", "")


@pytest.mark.parametrize("webhook", [False, True], ids=["web chat", "with the webhook"])
def test_caddy_serves_hsts_a_small_body_the_live_messages_at_once_and_the_paths_unchanged(
    webhook: bool,
) -> None:
    _, site = parse_caddyfile(caddyfile(webhook))

    header = site.one("header")
    assert header.args[0] == "Strict-Transport-Security"
    assert int(re.fullmatch(r"max-age=(\d+)", header.args[1])[1]) >= 365 * 24 * 3600  # type: ignore[index]
    handles = {tuple(handle.args): handle for handle in site.all("handle")}
    assert set(handles) == ({(), ("/telegram",)} if webhook else {()})
    web = handles[()]
    assert web.one("request_body").one("max_size").args == ["16KB"]
    proxy = web.one("reverse_proxy")
    assert proxy.args == ["127.0.0.1:8080"]
    assert proxy.one("flush_interval").args == ["-1"]
    if webhook:
        assert handles[("/telegram",)].one("reverse_proxy").args == ["127.0.0.1:8081"]
    rewrites = ("uri", "rewrite", "handle_path", "strip_prefix")
    assert [d for d in walk(site.block or []) if d.name in rewrites] == []


def test_the_caddy_webhook_lines_are_eight_as_the_comment_says() -> None:
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    changed = [
        (old, new)
        for old, new in zip(text.splitlines(), caddyfile(webhook=True).splitlines(), strict=True)
        if old != new
    ]

    assert len(changed) == 8
    assert 'delete "# " (hash and space) in front of the eight lines' in text


@pytest.mark.skipif(
    shutil.which("caddy") is None,
    reason="Caddy is not installed (apt-get install caddy): its own check of deploy/Caddyfile "
    "is left out; the other Caddy tests read the file",
)
@pytest.mark.parametrize("webhook", [False, True], ids=["web chat", "with the webhook"])
def test_caddy_itself_accepts_the_caddyfile_and_reads_it_as_meant(
    tmp_path: Path, webhook: bool
) -> None:
    site = tmp_path / "Caddyfile"
    site.write_text(caddyfile(webhook), encoding="utf-8")
    environment = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }

    def caddy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["caddy", *args, "--config", str(site), "--adapter", "caddyfile"],
            capture_output=True,
            text=True,
            timeout=60,
            env=environment,
            check=False,
        )

    adapted = caddy("adapt")
    assert adapted.returncode == 0, adapted.stderr
    assert "not formatted" not in adapted.stderr  # `caddy fmt` would change nothing
    validated = caddy("validate")
    assert validated.returncode == 0, validated.stderr

    config = json.loads(adapted.stdout)
    assert config["logging"]["logs"]["default"]["exclude"] == ["http.log.error"]
    (server,) = config["apps"]["http"]["servers"].values()
    assert "logs" not in server  # no access log
    handlers = list(handlers_in(server["routes"]))
    proxies = [handler for handler in handlers if handler["handler"] == "reverse_proxy"]
    assert len(proxies) == (2 if webhook else 1)
    for proxy in proxies:
        assert proxy["headers"]["request"]["delete"] == ["X-Forwarded-For"]
    bodies = sorted(h["max_size"] for h in handlers if h["handler"] == "request_body")
    assert bodies == ([16_000, 1_000_000] if webhook else [16_000])


def handlers_in(routes: list[dict[str, object]]) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for route in routes:
        for handler in route.get("handle", []):  # type: ignore[attr-defined]
            found.append(handler)
            found.extend(handlers_in(handler.get("routes", [])))
    return found


def test_the_guide_tells_how_to_run_and_publish_the_web_chat() -> None:
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    section = guide[guide.index("## 14. Web chat") :]

    for said in (
        "http://127.0.0.1:8080",
        "`WEGWEISER_WEB_LISTEN`",
        "`WEGWEISER_WEB_PORT`",
        "`WEGWEISER_WEB_EXIT_URL`",
        "`WEGWEISER_SECRET_KEY` or `_FILE`",
        "`Caddyfile`",
        "`nginx.conf`",
        "wegweiser web qr https://chat.example.org/ --out flyer-qr.svg",
        "at least 2.5 cm",
        "two different phones",
    ):
        assert said in section, said
    for name in ("Caddyfile", "nginx.conf"):
        assert (DEPLOY / name).is_file()
        assert f"`{name}`" in guide[: guide.index("## 1.")]  # the table of files
