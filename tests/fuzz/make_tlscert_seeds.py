#!/usr/bin/python3
"""Write the seed corpus of fuzz_tlscert and the trust anchor it verifies against.

    tests/fuzz/make_tlscert_seeds.py        (needs the openssl command)

Makes a private CA with the openssl CLI (a root, an intermediate, an expired intermediate,
and an untrusted root with its own intermediate), leaf certificates for the cases the
analysis tells apart, and writes
    tests/fuzz/tlscert-ca.pem          the root, the only trust anchor of the fuzz target
    tests/fuzz/corpus/tlscert/NAME     chains as the peer sends them, leaf first: for each
                                       certificate a 2-byte big-endian length, then its DER
Dates are fixed around the target's "now", 2027-01-15T08:00:00Z (1800000000), so the
seeds mean the same whenever they are made. The private keys stay in a temporary folder.
Running it again makes a new CA: commit the anchor and the corpus together.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

CNF = """\
[ca]
default_ca = fuzz
[fuzz]
database = {d}/index.txt
new_certs_dir = {d}/new
serial = {d}/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[any]
commonName = supplied
organizationName = optional
[root_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = $ENV::SAN
[leaf_nosan_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
"""


class CA:
    def __init__(self, tmp):
        self.tmp = tmp
        os.makedirs(os.path.join(tmp, "new"))
        open(os.path.join(tmp, "index.txt"), "w").close()
        with open(os.path.join(tmp, "serial"), "w") as f:
            f.write("1000\n")
        self.cnf = os.path.join(tmp, "openssl.cnf")
        with open(self.cnf, "w") as f:
            f.write(CNF.format(d=tmp))

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, *args, san="DNS:unused.invalid"):
        env = dict(os.environ, SAN=san)
        subprocess.run(["openssl", *args], check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    def cert(self, name, subject, start, end, ext, issuer=None, san=None, rsa=False):
        """Key, request and certificate NAME; issuer None signs it with its own key."""
        key, csr, pem = self.path(name + ".key"), self.path(name + ".csr"), self.path(name + ".pem")
        if rsa:
            self.run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                     "-out", key)
        else:
            self.run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", key)
        self.run("req", "-new", "-key", key, "-subj", subject, "-utf8", "-out", csr)
        args = ["ca", "-batch", "-config", self.cnf, "-notext", "-utf8", "-in", csr,
                "-out", pem, "-startdate", start, "-enddate", end, "-extensions", ext]
        if issuer:
            args += ["-cert", self.path(issuer + ".pem"), "-keyfile", self.path(issuer + ".key")]
        else:
            args += ["-selfsign", "-keyfile", key]
        self.run(*args, san=san or "DNS:unused.invalid")
        der = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"], check=True,
                             stdout=subprocess.PIPE).stdout
        return der


def frame(*ders):
    return b"".join(struct.pack("!H", len(d)) + d for d in ders)


def main():
    out = os.path.join(HERE, "corpus", "tlscert")
    tmp = tempfile.mkdtemp(prefix="stswatch-tlscert-seeds-")
    try:
        ca = CA(tmp)
        root = ca.cert("root", "/O=stswatch fuzz/CN=stswatch fuzz root", "20200101000000Z",
                       "20400101000000Z", "root_ext", rsa=True)
        inter = ca.cert("inter", "/O=stswatch fuzz/CN=stswatch fuzz intermediate",
                        "20250101000000Z", "20350101000000Z", "inter_ext", "root")
        inter_old = ca.cert("inter_old", "/CN=stswatch fuzz old intermediate",
                            "20240101000000Z", "20270101000000Z", "inter_ext", "root")
        other = ca.cert("other", "/CN=untrusted root", "20200101000000Z", "20400101000000Z",
                        "root_ext")
        other_inter = ca.cert("other_inter", "/CN=untrusted intermediate", "20250101000000Z",
                              "20350101000000Z", "inter_ext", "other")

        def leaf(name, san, start="20261201000000Z", end="20270301000000Z", issuer="inter",
                 ext="leaf_ext", subject=None):
            return ca.cert(name, subject or "/CN=mx.example.org", start, end, ext, issuer, san)

        good = leaf("good", "DNS:mx.example.org,DNS:mta-sts.example.org")
        seeds = {
            "good_chain": frame(good, inter),
            "good_with_root": frame(good, inter, root),
            "leaf_only": frame(good),
            "wrong_order": frame(inter, good),
            "wildcard": frame(leaf("wild", "DNS:*.example.org"), inter),
            "wrong_name": frame(leaf("wrong", "DNS:www.example.org,IP:192.0.2.1,"
                                     "email:postmaster@example.org"), inter),
            "no_san": frame(leaf("nosan", None, ext="leaf_nosan_ext"), inter),
            "expired": frame(leaf("expired", "DNS:mx.example.org", "20260901000000Z",
                                  "20261201000000Z"), inter),
            "not_yet_valid": frame(leaf("future", "DNS:mx.example.org", "20270201000000Z",
                                        "20270501000000Z"), inter),
            "far_future": frame(leaf("far", "DNS:mx.example.org", "20261201000000Z",
                                     "20600101000000Z"), inter),
            "self_signed": frame(leaf("self", "DNS:mx.example.org", issuer=None)),
            "inter_expired": frame(leaf("under_old", "DNS:mx.example.org", issuer="inter_old"),
                                   inter_old),
            "untrusted_root": frame(leaf("untrusted", "DNS:mx.example.org",
                                         issuer="other_inter"), other_inter, other),
            "many_sans": frame(leaf("many", ",".join("DNS:host%02d.mx.example.org" % i
                                                     for i in range(40))), inter),
            "utf8_names": frame(leaf("utf8", "DNS:mx.example.org",
                                     subject="/O=Ex\u00e4mple \u6d4b\u8bd5/CN=mx.example.org"),
                                inter),
            "garbage": frame(b"\x30\x82\x01\x00" + bytes(range(64))),
            "empty": b"",
        }
        os.makedirs(out, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
        shutil.copy(ca.path("root.pem"), os.path.join(HERE, "tlscert-ca.pem"))
    finally:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
