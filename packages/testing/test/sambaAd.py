"""Creates the test accounts in a freshly provisioned (offline) Samba AD database and exports the
service's keytab, in one process: samba-tool would start Python once per command (about a second
each). Reads a JSON spec on stdin (passwords stay out of argv):
  {"conf": smb.conf, "keytab": path, "password": users' password, "service": {"account", "password",
   "spn"}, "legacy": {"account", "password", "spn"}}
Accounts: alice (ordinary), dora (disabled), eve (expired yesterday), mike (must change his password
at next logon), rita (only an RC4 key, as an account whose password predates AES), the service
account (its SPN, AES keys: msDS-SupportedEncryptionTypes 24) and a legacy service account (its
SPN, the attribute unset: AD then issues RC4 tickets with an AES session key).
"""
import json
import sys

import ldb
from samba import enable_net_export_keytab
from samba.auth import system_session
from samba.net import Net
from samba.param import LoadParm
from samba.samdb import SamDB

# The password_hash module's bypass: lets a modify remove supplementalCredentials (the AES keys).
BYPASS_PASSWORD_HASH = "local_oid:1.3.6.1.4.1.7165.4.3.12:0"
AES_ONLY = "24"

spec = json.load(sys.stdin)
lp = LoadParm()
lp.load(spec["conf"])
samdb = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)


def modify(name, attribute, values, controls=None):
    dn = samdb.search(base=samdb.domain_dn(), scope=ldb.SCOPE_SUBTREE,
                      expression="(sAMAccountName=%s)" % name, attrs=[])[0].dn
    message = ldb.Message()
    message.dn = dn
    flag = ldb.FLAG_MOD_REPLACE if values else ldb.FLAG_MOD_DELETE
    message[attribute] = ldb.MessageElement(values, flag, attribute)
    samdb.modify(message, controls=controls)


password = spec["password"]
samdb.newuser("alice", password)
samdb.newuser("dora", password)
samdb.disable_account("(sAMAccountName=dora)")
samdb.newuser("eve", password)
samdb.setexpiry("(sAMAccountName=eve)", -86400)
samdb.newuser("mike", password, force_password_change_at_next_login_req=True)
samdb.newuser("rita", password)
modify("rita", "supplementalCredentials", [], controls=[BYPASS_PASSWORD_HASH])

service = spec["service"]
samdb.newuser(service["account"], service["password"])
modify(service["account"], "servicePrincipalName", [service["spn"]])
modify(service["account"], "msDS-SupportedEncryptionTypes", [AES_ONLY])
legacy = spec["legacy"]
samdb.newuser(legacy["account"], legacy["password"])
modify(legacy["account"], "servicePrincipalName", [legacy["spn"]])

enable_net_export_keytab()
Net(None, lp).export_keytab(keytab=spec["keytab"], principal=service["spn"])
