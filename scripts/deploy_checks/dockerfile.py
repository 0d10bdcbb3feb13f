"""Dockerfile and .dockerignore: what the image builds and ships agrees with the workspace."""

import re
import subprocess

from dockerfile_parse import DockerfileParser

from .common import IMAGE_BINARIES, ROOT, Problems, listen_port, load_yaml, workspace_bins


def _stages(parser):
    """[(stage name, base image, [instructions])] in order."""
    stages = []
    for ins in parser.structure:
        if ins["instruction"] == "FROM":
            words = ins["value"].split()
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append((name, words[0], []))
        elif stages:
            stages[-1][2].append(ins)
    return stages


def _arg_defaults(parser):
    defaults = {}
    for ins in parser.structure:
        if ins["instruction"] == "FROM":
            break
        if ins["instruction"] == "ARG" and "=" in ins["value"]:
            key, value = ins["value"].split("=", 1)
            defaults[key.strip()] = value.strip()
    return defaults


def check_dockerfile(p):
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    stages = _stages(parser)
    args = _arg_defaults(parser)
    resolve = lambda image: re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)
    p.check(len(stages) >= 2, "a multi-stage build is expected")
    builder = next((s for s in stages if s[0] == "builder"), None)
    if not p.check(builder is not None, "no stage named `builder`"):
        return
    channel = load_toml_channel()
    rust_images = [resolve(s[1]) for s in stages if resolve(s[1]).startswith("rust:")]
    p.check(rust_images, "no stage is based on a rust: image")
    for image in rust_images:
        p.check(image.startswith(f"rust:{channel}") or image.startswith(f"rust:{channel.rsplit('.', 1)[0]}-"),
                f"{image} does not match rust-toolchain.toml channel {channel}")
        p.check(image.endswith("-bookworm"), f"{image}: build on bookworm, like the runtime image")
    runs = " ".join(i["value"] for s in stages for i in s[2] if i["instruction"] == "RUN")
    p.check("cargo build --release --locked --bins" in runs, "no `cargo build --release --locked --bins`")
    p.check("cargo chef cook" in runs, "dependencies are not cached in their own layer (cargo chef cook)")
    builder_copies = [i["value"] for i in builder[2] if i["instruction"] == "COPY"]
    cook = next((i for i, ins in enumerate(builder[2]) if "cargo chef cook" in ins["value"]), None)
    full_copy = next((i for i, ins in enumerate(builder[2]) if ins["instruction"] == "COPY" and ins["value"] == ". ."), None)
    p.check(None not in (full_copy, cook) and full_copy > cook, "the sources must be copied after the dependency layer")
    p.check(any(".cargo" in c for c in builder_copies), ".cargo (SQLX_OFFLINE) is not in the dependency layer")

    _, final_image, final = stages[-1]
    p.check(resolve(final_image) in ("debian:bookworm-slim", "gcr.io/distroless/cc-debian12"),
            f"runtime image is {resolve(final_image)}")
    copied = " ".join(i["value"] for i in final if i["instruction"] == "COPY" and "--from=builder" in i["value"])
    bins = workspace_bins()
    for name in IMAGE_BINARIES:
        p.check(name in bins, f"`{name}` is not a binary of the workspace")
        p.check(f"/target/release/{name} " in copied + " ", f"the image does not ship {name}")
    users = [i["value"] for i in final if i["instruction"] == "USER"]
    p.check(users and users[-1].split(":")[0] == "10001", f"final USER must be 10001, is {users}")
    p.check("--uid 10001" in " ".join(i["value"] for i in final if i["instruction"] == "RUN"),
            "no user with uid 10001 is created")
    exposed = {int(x.split("/")[0]) for i in final if i["instruction"] == "EXPOSE" for x in i["value"].split()}
    cfg = load_yaml(ROOT / "deploy/docker/config.yaml")
    want = {cfg["service"]["port"], listen_port(cfg["worker"]["listen"]), listen_port(cfg["reaper"]["listen"])}
    p.check(exposed == want, f"EXPOSE {sorted(exposed)} but the image's config listens on {sorted(want)}")
    p.check(cfg["service"]["host"] == "0.0.0.0", "the image's config must listen on every interface")
    p.check(any(i["instruction"] == "CMD" for i in final), "no default CMD")
    envs = " ".join(i["value"] for i in final if i["instruction"] == "ENV")
    p.check("MTCP_CONFIG=/etc/mtcp/config.yaml" in envs, "MTCP_CONFIG does not name the shipped config")
    p.check(any(i["instruction"] == "COPY" and "deploy/docker/config.yaml /etc/mtcp/config.yaml" in i["value"]
                for i in final), "deploy/docker/config.yaml is not copied to /etc/mtcp/config.yaml")
    # The simulator dispatches on argv[0]: the demo config's tctl/tsh must be links to it.
    final_runs = " ".join(i["value"] for i in final if i["instruction"] == "RUN")
    for tool in ("tctl", "tsh"):
        p.check(f"ln -s /usr/local/bin/teleport-sim /opt/mtcp/sim/bin/{tool}" in final_runs,
                f"/opt/mtcp/sim/bin/{tool} is not a link to the simulator")
    p.check("mtcp simulator-identity /opt/mtcp/sim/identity" in final_runs,
            "the simulator's identity file is not created (mtcp simulator-identity)")
    p.check("chown 10001:10001 /opt/mtcp/sim/identity" in final_runs,
            "the simulator's identity file (0600) must belong to the service's user")
    p.check("migrations" not in copied, "migrations are embedded (sqlx::migrate!); do not copy them")


def load_toml_channel():
    text = (ROOT / "rust-toolchain.toml").read_text()
    return re.search(r'channel\s*=\s*"([^"]+)"', text).group(1)


def _pattern_regex(pattern):
    """Docker's .dockerignore pattern (Go filepath.Match plus `**`) as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        else:
            c = pattern[i]
            out += "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
            i += 1
    return re.compile(out + r"\Z")


def _ignored(path, rules):
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return excluded


def check_dockerignore(p):
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip("/").removeprefix("./")
        rules.append((negate, _pattern_regex(pattern)))
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    members = re.search(r"members\s*=\s*\[([^\]]*)\]", (ROOT / "Cargo.toml").read_text()).group(1)
    members = [m.strip().strip('"') for m in members.split(",") if m.strip()]
    needed = ["Cargo.toml", "Cargo.lock", "rust-toolchain.toml", ".cargo/config.toml", "deploy/docker/config.yaml"]
    # Every tracked file of a workspace member, and the migrations sqlx::migrate! embeds at build time.
    needed += [f for f in files if any(f.startswith(m + "/") for m in members + ["migrations"])]
    for f in needed:
        p.check(not _ignored(f, rules), f".dockerignore leaves out {f}, which the build needs")
    for f in ["target/release/mtcp", ".git/HEAD", ".mtcp/pg/postmaster.pid", "config.yaml"]:
        p.check(_ignored(f, rules), f".dockerignore lets {f} into the build context")


def main():
    p = Problems("Dockerfile")
    check_dockerfile(p)
    check_dockerignore(p)
    return p.report()
