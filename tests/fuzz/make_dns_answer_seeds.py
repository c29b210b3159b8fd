#!/usr/bin/python3
"""Write the seed corpus of fuzz_dns_answer: raw DNS responses as a resolver sends them.

    tests/fuzz/make_dns_answer_seeds.py [DIR]     (default: tests/fuzz/corpus/dns_answer)

Each file is one DNS message (RFC 1035 4.1), with name compression where resolvers use it,
an EDNS OPT record where they add one, and the answers stswatch asks for: TXT at
_mta-sts and _smtp._tls, MX (with a null MX and duplicates), A and AAAA behind a CNAME.
"""
import os
import struct
import sys

T_A, T_CNAME, T_MX, T_TXT, T_AAAA, T_OPT = 1, 5, 15, 16, 28, 41
C_IN = 1


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def ptr(offset):
    return struct.pack("!H", 0xC000 | offset)


def header(ancount, rcode=0, tc=False, arcount=0, qid=0x4D2A):
    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    return struct.pack("!HHHHHH", qid, flags, 1, ancount, 0, arcount)


def question(qname, qtype):
    return name(qname) + struct.pack("!HH", qtype, C_IN)


def rr(owner, rtype, rdata, ttl=300):
    return owner + struct.pack("!HHIH", rtype, C_IN, ttl, len(rdata)) + rdata


def txt_rdata(*strings):
    return b"".join(bytes([len(s)]) + s for s in strings)


def opt():
    return b"\0" + struct.pack("!HHIH", T_OPT, 1232, 0, 0)


QNAME = ptr(12)	# the question's name, right after the header


def message(qname, qtype, answers, **kw):
    extra = opt() if kw.pop("edns", False) else b""
    return (header(len(answers), arcount=1 if extra else 0, **kw) + question(qname, qtype) +
            b"".join(answers) + extra)


def seeds():
    sts = "_mta-sts.example.org"
    yield "txt_sts", message(sts, T_TXT, [
        rr(QNAME, T_TXT, txt_rdata(b"v=STSv1; id=20240101T000000;"))], edns=True)
    yield "txt_split", message(sts, T_TXT, [
        rr(QNAME, T_TXT, txt_rdata(b"v=STSv1; ", b"id=2024", b"0101"))])
    yield "txt_two", message(sts, T_TXT, [
        rr(QNAME, T_TXT, txt_rdata(b"v=STSv1; id=a;")),
        rr(QNAME, T_TXT, txt_rdata(b"v=spf1 -all"))])
    yield "txt_tlsrpt", message("_smtp._tls.example.org", T_TXT, [
        rr(QNAME, T_TXT, txt_rdata(b"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"))])
    yield "txt_long", message(sts, T_TXT, [
        rr(QNAME, T_TXT, txt_rdata(b"v=STSv1; id=" + b"x" * 243, b"y" * 255, b"\0;"))])
    yield "txt_nodata", message(sts, T_TXT, [], edns=True)
    yield "nxdomain", message(sts, T_TXT, [], rcode=3)
    # MX: example.org at offset 12 + len("\x07example"): targets point into the question
    org = 12 + 8
    yield "mx_two", message("example.org", T_MX, [
        rr(QNAME, T_MX, struct.pack("!H", 10) + b"\x03mx1" + ptr(12)),
        rr(QNAME, T_MX, struct.pack("!H", 20) + b"\x03mx2" + ptr(12))], edns=True)
    yield "mx_dups", message("example.org", T_MX, [
        rr(QNAME, T_MX, struct.pack("!H", 20) + name("MX2.Example.ORG")),
        rr(QNAME, T_MX, struct.pack("!H", 10) + name("mx1.example.org")),
        rr(QNAME, T_MX, struct.pack("!H", 20) + name("mx2.example.org"))])
    yield "mx_null", message("example.org", T_MX, [
        rr(QNAME, T_MX, struct.pack("!H", 0) + b"\0")])
    yield "mx_ptr_tld", message("example.org", T_MX, [
        rr(QNAME, T_MX, struct.pack("!H", 5) + b"\x04mail" + ptr(org))])
    host = "mx1.example.org"
    yield "a_cname", message(host, T_A, [
        rr(QNAME, T_CNAME, name("mail.example.net")),
        rr(ptr(12 + len(name(host)) + 4 + 12), T_A, bytes([192, 0, 2, 25]))])
    yield "a_two", message(host, T_A, [
        rr(QNAME, T_A, bytes([192, 0, 2, 25])),
        rr(QNAME, T_A, bytes([198, 51, 100, 7]))], edns=True)
    yield "aaaa", message(host, T_AAAA, [
        rr(QNAME, T_AAAA, bytes.fromhex("20010db8000000000000000000000025"))])
    yield "truncated_tc", message(sts, T_TXT, [
        rr(QNAME, T_TXT, txt_rdata(b"v=STSv1; id=1;"))], tc=True)[:-6]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "dns_answer")
    os.makedirs(out, exist_ok=True)
    for fname, data in seeds():
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
