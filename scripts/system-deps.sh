#!/usr/bin/env bash
# Installs the Debian packages the test suite needs: the independent NTLM peers (impacket server,
# curl --ntlm, python3-requests-ntlm), the Kerberos peers (MIT krb5kdc, kadmin.local, kinit/klist/ktutil,
# python3-gssapi for a GSS-API acceptor and initiator), and for the token store's attack tests useradd/userdel
# (passwd: a throwaway second local user) and mkfifo/mknod (coreutils), and redis-server (with redis-cli) for
# @vedauth/store-redis's tests, which start their own servers on loopback, and squid (the proxy tests run
# their own instances on loopback, never the package's service); and what building the optional
# `kerberos` addon from source needs (libkrb5-dev, g++, make, python3 for node-gyp; `pnpm kerberos-addon`); and zsh and
# fish, which load `vedauth completion`'s scripts in the CLI's tests; and Samba's AD DC (samba, samba-ad-dc,
# samba-ad-provision, samba-common-bin, winbind, python3-samba; libnss-wrapper for ntlm_auth), which the
# testing package provisions privately as a real Active Directory on loopback (test/sambaAd.ts), and
# sssd-kcm, whose sssd_kcm the tests run privately as RHEL's KCM credential cache server (@vedauth/test-helpers/sssdKcm).
# No system service is started: the install runs under a policy-rc.d that refuses every start (Debian's
# samba scripts would otherwise start smbd, nmbd and samba-ad-dc on every interface, sssd-kcm its socket).
# Idempotent: does nothing when they are all present.
set -euo pipefail
packages=(curl python3 python3-impacket python3-requests-ntlm python3-requests openssl krb5-kdc krb5-admin-server krb5-user python3-gssapi passwd coreutils redis-server squid libkrb5-dev g++ make zsh fish samba samba-ad-dc samba-ad-provision samba-common-bin winbind python3-samba libnss-wrapper sssd-kcm)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]} (run as root or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# vedauth system-deps: no service starts while installing\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
