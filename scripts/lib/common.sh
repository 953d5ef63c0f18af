# shellcheck shell=bash
# Shared by scripts/test and scripts/demo: what the project needs on a Debian 12 machine,
# installed only when missing. Source it; it defines functions and sets nothing else.

IMS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The real peers (see ../shared/peers/README.md) and the build dependencies.
IMS_PEER_PACKAGES=(
	kamailio kamailio-sqlite-modules kamailio-presence-modules kamailio-xml-modules
	kamailio-utils-modules kamailio-tls-modules kamailio-ims-modules
	sip-tester baresip sqlite3 dnsmasq tmux
)
IMS_BUILD_PACKAGES=(pkg-config libasound2-dev)

ims_say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
ims_warn() { printf 'warning: %s\n' "$*" >&2; }
ims_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Packages among "$@" that dpkg does not report as installed.
ims_missing_packages() {
	local package
	for package in "$@"; do
		dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' ||
			echo "$package"
	done
}

# Installs whatever of the peer and build packages is missing; apt-get update only then.
# Package scripts may not start services (policy-rc.d): the project starts its own peers,
# on its own ports, and a distribution kamailio or dnsmasq daemon would squat 5060 or 53.
ims_install_packages() {
	local wanted=("${IMS_PEER_PACKAGES[@]}" "${IMS_BUILD_PACKAGES[@]}")
	command -v cc >/dev/null || wanted+=(gcc libc6-dev)
	command -v ps >/dev/null || wanted+=(procps)
	local missing
	mapfile -t missing < <(ims_missing_packages "${wanted[@]}")
	if [[ ${#missing[@]} -eq 0 ]]; then
		return 0
	fi
	command -v apt-get >/dev/null ||
		ims_die "missing packages (${missing[*]}) and no apt-get: this project targets Debian 12"
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || ims_die "missing packages (${missing[*]}): run as root, or install sudo"
		sudo=(sudo)
	fi
	ims_say "installing ${missing[*]}"
	local policy=/usr/sbin/policy-rc.d own_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\n# written by ims-rs scripts during apt-get install\nexit 101\n' |
			"${sudo[@]}" tee "$policy" >/dev/null
		"${sudo[@]}" chmod 755 "$policy"
		own_policy=1
	fi
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
	local status=0
	"${apt[@]}" update -q && "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" || status=$?
	if [[ $own_policy -eq 1 ]]; then
		"${sudo[@]}" rm -f "$policy"
	fi
	[[ $status -eq 0 ]] || ims_die "apt-get failed (status $status) installing ${missing[*]}"
}

# Makes cargo, clippy and rustfmt available; exits 2 with instructions when Rust is missing.
ims_ensure_rust() {
	if ! command -v cargo >/dev/null && [[ -x $HOME/.cargo/bin/cargo ]]; then
		export PATH="$HOME/.cargo/bin:$PATH"
	fi
	if ! command -v cargo >/dev/null; then
		cat >&2 <<-'TEXT'
			error: cargo is not installed. Install Rust with rustup (https://rustup.rs):
			    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
			    . "$HOME/.cargo/env"
			then run this script again (it adds clippy and rustfmt itself).
		TEXT
		exit 2
	fi
	if command -v rustup >/dev/null; then
		local installed components=()
		installed=$(rustup component list --installed 2>/dev/null || true)
		grep -q '^clippy' <<<"$installed" || components+=(clippy)
		grep -q '^rustfmt' <<<"$installed" || components+=(rustfmt)
		if [[ ${#components[@]} -gt 0 ]]; then
			ims_say "rustup component add ${components[*]}"
			rustup component add "${components[@]}"
		fi
	else
		cargo clippy --version >/dev/null 2>&1 && cargo fmt --version >/dev/null 2>&1 ||
			ims_die "cargo has no clippy/rustfmt and there is no rustup to add them; install Rust with rustup"
	fi
}
