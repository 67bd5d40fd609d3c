#!/usr/bin/python3
"""An independent GSS-API peer on MIT Kerberos (Debian python3-gssapi), for vedauth's interop tests.

  gss_peer.py accept [--bindings HEX] [--raw]   reads one base64 token on stdin, accepts it with the
      keytab in KRB5_KTNAME, prints JSON {complete, initiator, token} or {error}.
  gss_peer.py initiate SERVICE@HOST [--bindings HEX] [--raw]   prints a base64 token (SPNEGO, or raw krb5
      with --raw) from the ccache in KRB5CCNAME, reads the acceptor's base64 answer on stdin, prints
      JSON {complete} or {error}.
"""
import base64
import json
import sys

import gssapi
from gssapi.raw import ChannelBindings

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")


def option(name):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return None


def bindings():
    hexdata = option("--bindings")
    return None if hexdata is None else ChannelBindings(application_data=bytes.fromhex(hexdata))


def emit(obj):
    print(json.dumps(obj), flush=True)


def accept():
    token = base64.b64decode(sys.stdin.readline().strip())
    try:
        creds = gssapi.Credentials(usage="accept")
        ctx = gssapi.SecurityContext(creds=creds, usage="accept", channel_bindings=bindings())
        out = ctx.step(token)
        emit({"complete": ctx.complete, "initiator": str(ctx.initiator_name),
              "token": base64.b64encode(out).decode() if out else None})
    except gssapi.exceptions.GSSError as error:
        emit({"error": str(error)})


def initiate(service):
    name = gssapi.Name(service, gssapi.NameType.hostbased_service)
    mech = KRB5 if "--raw" in sys.argv else SPNEGO
    flags = gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.integrity
    try:
        ctx = gssapi.SecurityContext(name=name, usage="initiate", mech=mech, flags=flags, channel_bindings=bindings())
        token = ctx.step()
    except gssapi.exceptions.GSSError as error:
        emit({"error": str(error)})
        return
    emit({"token": base64.b64encode(token).decode()})
    answer = base64.b64decode(sys.stdin.readline().strip())
    try:
        out = ctx.step(answer)
        emit({"complete": ctx.complete, "token": base64.b64encode(out).decode() if out else None})
    except gssapi.exceptions.GSSError as error:
        emit({"error": str(error)})


if __name__ == "__main__":
    if sys.argv[1] == "accept":
        accept()
    else:
        initiate(sys.argv[2])
