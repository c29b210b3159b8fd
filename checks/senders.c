/*
 * senders: the sender profile (docs/SENDERS.md, docs/senders.json) and the rule that turns
 * a difference between the strict RFC 8461 reading and real senders into a severity.
 *
 * Each row below cites, per column, where its verdict was read; "(probe)" marks a verdict
 * also run on the example. The sources, at these commits (docs/SENDERS.md "Sources"):
 *   rfc:      RFC 8461 (September 2018), sections and ABNF productions as named
 *   pmsr:     Snawoot/postfix-mta-sts-resolver a000619e838f (v1.5.0)
 *   tlspol:   Zuplu/postfix-tlspol ffe1e2d1e862 (v1.13.0)
 *   postfix:  vdukhovni/postfix 17830e5c13c1 (postfix-3.12-20260821)
 *   gomtasts: foxcpp/go-mtasts 1438da2e5932, the commit foxcpp/maddy v0.9.4 (837b1b8a7761) pins
 *   mox:      mjl-/mox 1c9587665b32 (v0.0.17)
 *   stalwart: stalwartlabs/stalwart d72608f3e2d5, paths starting "mail-auth" in
 *             stalwartlabs/mail-auth 0e93300e5c77 (0.11.2)
 *   mailauth: postalsys/mailauth d2616c6bee77 (v5.0.2; lib/mta-sts.js as in v4.13.3)
 *   halon:    halon-extras/mta-sts a4a9f2d8755b (1.0.1)
 *   msdoc:    MicrosoftDocs/microsoft-365-docs 0cf8685345d0 (documentation only)
 * Google and Microsoft document nothing about how they parse: unknown in every row.
 * tests/unit/test_senders.c compares every cell of this table with docs/senders.json.
 */
#include "senders.h"

#include <stdio.h>
#include <string.h>

#define B(s) SENDER_BIT(s)
#define WHO_LEN 640

static const struct sender_profile table[SR__COUNT] = {
	/*
	 * txt.trailing_ws_no_semicolon (RFC 8461 3.1), example "v=STSv1; id=policy1 "
	 * rfc reject: rfc:3.1 ABNF sts-text-record, sts-field-delim
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_record();
	 *     pmsr:tests/test_utils.py test_parse_mta_sts_record case "v=STSv1;
	 *     id=20160831085700Z   " (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord();
	 *     tlspol:internal/mta-sts_test.go TestMtaStsRecordAvailable "trailing whitespace
	 *     without delimiter" (probe)
	 * gomtasts accept: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord() (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_TRAILING_WS] = { .id = "txt.trailing_ws_no_semicolon", .rfc = "3.1", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = 0,
	},
	/*
	 * txt.ws_before_semicolon (RFC 8461 3.1), example "v=STSv1 ; id=x"
	 * rfc lenient-other: rfc:3.1 ABNF sts-field-delim; 3.1 discard rule
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve();
	 *     pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_record() (probe)
	 * tlspol accept: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord();
	 *     tlspol:internal/mta-sts_test.go TestMtaStsRecordAvailable "valid whitespace
	 *     delimiters"
	 * gomtasts accept: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch();
	 *     gomtasts:mtasts_test.go TestReadDNSRecord case "v=STSv1  ;    id=foo"
	 * mox accept: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord() (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon reject: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_WS_BEFORE_SEMI] = { .id = "txt.ws_before_semicolon", .rfc = "3.1", .lenient = true,
		.accept = B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) | B(S_STALWART) |
			B(S_MAILAUTH),
		.reject = B(S_HALON),
		.other = B(S_RFC),
		.note = "the RFC 8461 3.1 ABNF allows the space, its text discards records that "
			"do not begin with \"v=STSv1;\"",
	},
	/*
	 * txt.empty_field (RFC 8461 3.1), example "v=STSv1;; id=x  (also v=STSv1; id=x;;)"
	 * rfc reject: rfc:3.1 ABNF sts-text-record
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_record();
	 *     pmsr:tests/test_utils.py test_parse_mta_sts_record case "v=STSv1;
	 *     id=20160831085700Z;;;" (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts accept: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord();
	 *     mox:mtasts/parse_test.go TestRecord bad("v=STSv1; id=a;;") (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_EMPTY_FIELD] = { .id = "txt.empty_field", .rfc = "3.1", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = 0,
	},
	/*
	 * txt.id_non_alnum (RFC 8461 3.1), example "v=STSv1; id=bad-value"
	 * rfc reject: rfc:3.1 ABNF sts-id
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord();
	 *     tlspol:internal/mta-sts_test.go TestMtaStsRecordAvailable "invalid id" (probe)
	 * gomtasts accept: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord();
	 *     mox:mtasts/parse_test.go TestRecord bad("v=STSv1; id=test-123") (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_ID_NON_ALNUM] = { .id = "txt.id_non_alnum", .rfc = "3.1", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = 0,
	},
	/*
	 * txt.id_too_long (RFC 8461 3.1), example "v=STSv1; id=<33 letters>"
	 * rfc reject: rfc:3.1 ABNF sts-id
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts accept: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord();
	 *     mox:mtasts/parse_test.go TestRecord bad("v=STSv1;
	 *     id=012345678901234567890123456789012") (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_ID_TOO_LONG] = { .id = "txt.id_too_long", .rfc = "3.1", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = 0,
	},
	/*
	 * txt.id_empty (RFC 8461 3.1), example "v=STSv1; id="
	 * rfc reject: rfc:3.1 ABNF sts-id
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve();
	 *     pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_record() (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse_test.go TestRecord bad("v=STSv1; id=") (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth reject: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_ID_EMPTY] = { .id = "txt.id_empty", .rfc = "3.1", .lenient = false,
		.accept = B(S_PMSR) | B(S_STALWART) | B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) | B(S_MAILAUTH),
		.other = 0,
	},
	/*
	 * txt.id_missing (RFC 8461 3.1), example "v=STSv1;"
	 * rfc reject: rfc:3.1 ABNF sts-text-record; 3.1 field id
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch();
	 *     gomtasts:mtasts_test.go TestReadDNSRecord case "v=STSv1" (probe)
	 * mox reject: mox:mtasts/parse_test.go TestRecord bad("v=STSv1;") (probe)
	 * stalwart reject: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth reject: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser()
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_ID_MISSING] = { .id = "txt.id_missing", .rfc = "3.1", .lenient = false,
		.accept = B(S_HALON),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) |
			B(S_STALWART) | B(S_MAILAUTH),
		.other = 0,
	},
	/*
	 * txt.two_ids (RFC 8461 3.1, 3.2), example "v=STSv1; id=a; id=b"
	 * rfc accept: rfc:3.1 ABNF; 3.2 paragraph on repeated fields (mox cites it for TXT
	 *     records: mtasts/parse.go comment ../rfc/8461:517)
	 * pmsr lenient-other: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_record()
	 *     (probe)
	 * tlspol accept: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts lenient-other: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch()
	 *     (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord() (probe)
	 * stalwart lenient-other: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth lenient-other: mailauth:lib/mta-sts.js resolvePolicy() +
	 *     lib/parse-dkim-headers.js headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_TWO_IDS] = { .id = "txt.two_ids", .rfc = "3.1, 3.2", .lenient = true,
		.accept = B(S_RFC) | B(S_TLSPOL) | B(S_HALON),
		.reject = B(S_MOX),
		.other = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.note = "the RFC 8461 text and postfix-tlspol use the first id, "
			"postfix-mta-sts-resolver, maddy, Stalwart and mailauth the last, so a "
			"change of one id may go unseen",
	},
	/*
	 * txt.ext_bad_name (RFC 8461 3.1), example "v=STSv1; id=x; _ext=1"
	 * rfc reject: rfc:3.1 ABNF sts-ext-name
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts accept: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord();
	 *     mox:mtasts/parse_test.go TestRecord bad("v=STSv1; id=a; 1%=a") (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser()
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_EXT_BAD_NAME] = { .id = "txt.ext_bad_name", .rfc = "3.1", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = 0,
	},
	/*
	 * txt.ext_bad_value (RFC 8461 3.1), example "v=STSv1; id=x; note=has space  (also x=a=b)"
	 * rfc reject: rfc:3.1 ABNF sts-ext-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord();
	 *     tlspol:internal/mta-sts_test.go TestMtaStsRecordAvailable "invalid extension value"
	 *     (probe)
	 * gomtasts reject: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch();
	 *     gomtasts:mtasts_test.go TestReadDNSRecord case "v=STSv1;    id=foo include=foo.com"
	 *     (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord();
	 *     mox:mtasts/parse_test.go TestRecord bad("v=STSv1; id=a; test==") (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_EXT_BAD_VALUE] = { .id = "txt.ext_bad_value", .rfc = "3.1", .lenient = true,
		.accept = B(S_PMSR) | B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX),
		.other = 0,
	},
	/*
	 * txt.ext_value_colon (RFC 8461 3.1), example "v=STSv1; id=x; ext=a:b"
	 * rfc accept: rfc:3.1 ABNF sts-ext-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_record() (probe)
	 * tlspol accept: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts accept: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox accept: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord() (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth reject: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_EXT_VALUE_COLON] = { .id = "txt.ext_value_colon", .rfc = "3.1", .lenient = true,
		.accept = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) |
			B(S_STALWART) | B(S_HALON),
		.reject = B(S_MAILAUTH),
		.other = 0,
	},
	/*
	 * txt.unrelated_record (RFC 8461 3.1), example "TXT verification=abc next to v=STSv1;
	 *     id=x"
	 * rfc accept: rfc:3.1
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol accept: tlspol:internal/mta-sts_test.go TestMtaStsRecordAvailable "unrelated
	 *     record discarded"
	 * gomtasts reject: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch()
	 * mox accept: mox:mtasts/mtasts.go LookupRecord()
	 * stalwart accept: stalwart:mail-auth src/common/resolver.rs Resolver::txt_lookup() (first
	 *     record that parses wins)
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_UNRELATED_RECORD] = { .id = "txt.unrelated_record", .rfc = "3.1", .lenient = true,
		.accept = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_MOX) | B(S_STALWART) |
			B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_GOMTASTS),
		.other = 0,
	},
	/*
	 * txt.version_not_first (RFC 8461 3.1), example "id=x; v=STSv1"
	 * rfc reject: rfc:3.1 ABNF sts-text-record; 3.1 discard rule
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts accept: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord() (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth reject: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon reject: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_VERSION_NOT_FIRST] = { .id = "txt.version_not_first", .rfc = "3.1", .lenient = false,
		.accept = B(S_GOMTASTS) | B(S_STALWART),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_MOX) | B(S_MAILAUTH) |
			B(S_HALON),
		.other = 0,
	},
	/*
	 * txt.version_case (RFC 8461 3.1), example "v=stsv1; id=x  (also V=STSv1; id=x)"
	 * rfc reject: rfc:3.1 ABNF sts-version
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord() (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon reject: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_VERSION_CASE] = { .id = "txt.version_case", .rfc = "3.1", .lenient = false,
		.accept = B(S_STALWART) | B(S_MAILAUTH),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) |
			B(S_HALON),
		.other = 0,
	},
	/*
	 * txt.id_key_case (RFC 8461 3.1), example "v=STSv1; ID=x"
	 * rfc reject: rfc:3.1 ABNF sts-id, sts-extension
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve() (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsRecordAvailable(),
	 *     isMtaStsTXTVersionCandidate(), isValidMtaStsTXTRecord() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readDNSRecord(); cache.go Cache.fetch() (probe)
	 * mox reject: mox:mtasts/parse.go ParseRecord(); mtasts/mtasts.go LookupRecord() (probe)
	 * stalwart accept: stalwart:mail-auth src/mta_sts/parse.rs MtaSts::parse(),
	 *     src/common/parse.rs TagParser::key()/match_bytes()/text()/seek_tag_end()
	 * mailauth accept: mailauth:lib/mta-sts.js resolvePolicy() + lib/parse-dkim-headers.js
	 *     headerParser() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_dnstxt() (only `$r[0:8] == "v=STSv1;"` and
	 *     a count of 1; the id is never parsed)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_TXT_ID_KEY_CASE] = { .id = "txt.id_key_case", .rfc = "3.1", .lenient = false,
		.accept = B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX),
		.other = 0,
	},
	/*
	 * pol.blank_line (RFC 8461 3.2), example "version: STSv1\\n\\nmode: enforce\\n..."
	 * rfc reject: rfc:3.2 ABNF sts-policy-record
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy(); tlspol:internal/mta-sts_test.go TestParseMtaStsPolicy "blank
	 *     policy line is invalid" (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_BLANK_LINE] = { .id = "pol.blank_line", .rfc = "3.2", .lenient = true,
		.accept = B(S_PMSR) | B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX),
		.other = 0,
	},
	/*
	 * pol.trailing_blank_line (RFC 8461 3.2), example "version: STSv1 / mode: enforce / mx:
	 *     mail.example.com / max_age: 86400\\n\\n"
	 * rfc reject: rfc:3.2 ABNF sts-policy-record
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_TRAILING_BLANK_LINE] = { .id = "pol.trailing_blank_line", .rfc = "3.2", .lenient = true,
		.accept = B(S_PMSR) | B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX),
		.other = 0,
	},
	/*
	 * pol.cr_only (RFC 8461 3.2), example "version: STSv1\\rmode: enforce\\r..."
	 * rfc reject: rfc:3.2 ABNF sts-policy-term
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart reject: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth reject: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon reject: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_CR_ONLY] = { .id = "pol.cr_only", .rfc = "3.2", .lenient = false,
		.accept = B(S_PMSR),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) | B(S_STALWART) |
			B(S_MAILAUTH) | B(S_HALON),
		.other = 0,
	},
	/*
	 * pol.ws_before_key (RFC 8461 3.2), example " mode: enforce"
	 * rfc reject: rfc:3.2 ABNF sts-policy-field
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_WS_BEFORE_KEY] = { .id = "pol.ws_before_key", .rfc = "3.2", .lenient = false,
		.accept = B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX),
		.other = 0,
	},
	/*
	 * pol.ws_before_colon (RFC 8461 3.2), example "mode : enforce"
	 * rfc reject: rfc:3.2 ABNF sts-policy-field-delim
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_WS_BEFORE_COLON] = { .id = "pol.ws_before_colon", .rfc = "3.2", .lenient = false,
		.accept = B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX),
		.other = 0,
	},
	/*
	 * pol.key_case (RFC 8461 3.2), example "Mode: enforce (no other mode line)"
	 * rfc reject: rfc:3.2 ABNF sts-policy-mode-field, sts-policy-ext-name
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon lenient-other: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https()
	 *     (only version is checked); halon:README.md usage: enforcement only when
	 *     $mtasts["policy"]["mode"] == "enforce", MX list passed to Halon core as mx_include
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_KEY_CASE] = { .id = "pol.key_case", .rfc = "3.2", .lenient = false,
		.accept = B(S_MAILAUTH),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX),
		.other = B(S_STALWART) | B(S_HALON),
		.note = "Stalwart and Halon accept the policy but do not enforce it",
	},
	/*
	 * pol.mode_value_case (RFC 8461 3.2), example "mode: Enforce"
	 * rfc reject: rfc:3.2 ABNF sts-policy-mode-value
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart reject: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon lenient-other: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https()
	 *     (only version is checked); halon:README.md usage: enforcement only when
	 *     $mtasts["policy"]["mode"] == "enforce", MX list passed to Halon core as mx_include
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MODE_VALUE_CASE] = { .id = "pol.mode_value_case", .rfc = "3.2", .lenient = false,
		.accept = B(S_MAILAUTH),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) |
			B(S_STALWART),
		.other = B(S_HALON),
		.note = "Halon accepts the policy but does not enforce it",
	},
	/*
	 * pol.dup_mode (RFC 8461 3.2), example "mode: testing\\nmode: enforce"
	 * rfc accept: rfc:3.2 paragraph on repeated fields
	 * pmsr lenient-other: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() +
	 *     resolver.py STSResolver.resolve() validation (probe)
	 * tlspol accept: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts lenient-other: gomtasts:mtasts.go readPolicy() (probe)
	 * mox accept: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse()
	 * mailauth lenient-other: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon lenient-other: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https()
	 *     (only version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_DUP_MODE] = { .id = "pol.dup_mode", .rfc = "3.2", .lenient = true,
		.accept = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.reject = 0,
		.other = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.note = "the RFC 8461 text, postfix-tlspol and mox use the first value, the "
			"others the last",
	},
	/*
	 * pol.dup_max_age (RFC 8461 3.2), example "max_age: 86400\\nmax_age: 5"
	 * rfc accept: rfc:3.2 paragraph on repeated fields
	 * pmsr lenient-other: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() +
	 *     resolver.py STSResolver.resolve() validation
	 * tlspol accept: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts lenient-other: gomtasts:mtasts.go readPolicy() (probe)
	 * mox accept: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse()
	 * mailauth lenient-other: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon lenient-other: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https()
	 *     (only version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_DUP_MAX_AGE] = { .id = "pol.dup_max_age", .rfc = "3.2", .lenient = true,
		.accept = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.reject = 0,
		.other = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.note = "the RFC 8461 text, postfix-tlspol and mox use the first value, the "
			"others the last",
	},
	/*
	 * pol.version_missing (RFC 8461 3.2), example "no version line"
	 * rfc reject: rfc:3.2 field list, ABNF comment "required once"
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation; pmsr:tests/test_resolver.py test_resolve_status
	 *     (fixtures tests/dnsmasq.conf.appendix, tests/nginx.conf) bad-policy1.loc
	 * tlspol reject: tlspol:internal/mta-sts_test.go TestParseMtaStsPolicy "missing version is
	 *     not enforceable" (probe)
	 * gomtasts reject: gomtasts:mtasts_test.go TestReadPolicy case "max_age: 8600" (probe)
	 * mox reject: mox:mtasts/parse_test.go TestParsePolicy bad("max_age:0\nmode:none") (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth reject: mailauth:lib/mta-sts.js parsePolicy()
	 * halon reject: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_VERSION_MISSING] = { .id = "pol.version_missing", .rfc = "3.2", .lenient = false,
		.accept = B(S_STALWART),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) |
			B(S_MAILAUTH) | B(S_HALON),
		.other = 0,
	},
	/*
	 * pol.version_case (RFC 8461 3.2), example "version: stsv1"
	 * rfc reject: rfc:3.2 ABNF sts-policy-version-value
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth reject: mailauth:lib/mta-sts.js parsePolicy()
	 * halon reject: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_VERSION_CASE] = { .id = "pol.version_case", .rfc = "3.2", .lenient = false,
		.accept = B(S_STALWART),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) |
			B(S_MAILAUTH) | B(S_HALON),
		.other = 0,
	},
	/*
	 * pol.unknown_key_colon_value (RFC 8461 3.2), example "foo: http://x"
	 * rfc accept: rfc:3.2 ABNF sts-policy-ext-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol accept: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox accept: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_UNKNOWN_KEY_COLON] = { .id = "pol.unknown_key_colon_value", .rfc = "3.2", .lenient = true,
		.accept = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_MOX) | B(S_STALWART) |
			B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_GOMTASTS),
		.other = 0,
	},
	/*
	 * pol.ext_bad_name (RFC 8461 3.2), example "_comment: x"
	 * rfc reject: rfc:3.2 ABNF sts-policy-ext-name
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol reject: tlspol:internal/mta-sts_test.go TestParseMtaStsPolicy "invalid extension
	 *     names are rejected" (probe)
	 * gomtasts accept: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse_test.go TestParsePolicy bad("...\n_bad:test") (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_EXT_BAD_NAME] = { .id = "pol.ext_bad_name", .rfc = "3.2", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = 0,
	},
	/*
	 * pol.ext_empty_value (RFC 8461 3.2), example "comment:"
	 * rfc reject: rfc:3.2 ABNF sts-policy-ext-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol reject: tlspol:internal/mta-sts_test.go TestParseMtaStsPolicy "invalid extension
	 *     values are rejected" ("comment:") (probe)
	 * gomtasts accept: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse_test.go TestParsePolicy bad("...\next:") (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_EXT_EMPTY_VALUE] = { .id = "pol.ext_empty_value", .rfc = "3.2", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = 0,
	},
	/*
	 * pol.line_without_colon (RFC 8461 3.2), example "garbage"
	 * rfc reject: rfc:3.2 ABNF sts-policy-record
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts reject: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_LINE_WITHOUT_COLON] = { .id = "pol.line_without_colon", .rfc = "3.2", .lenient = false,
		.accept = B(S_PMSR) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX),
		.other = B(S_STALWART),
		.note = "Stalwart glues the line to the next one and loses that field",
	},
	/*
	 * pol.max_age_above_max (RFC 8461 3.2), example "max_age: 31557601"
	 * rfc reject: rfc:3.2 max_age
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation; pmsr:tests/test_resolver.py test_resolve_status
	 *     (fixtures tests/dnsmasq.conf.appendix, tests/nginx.conf) bad-policy6.loc
	 * tlspol lenient-other: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts accept: gomtasts:mtasts.go readPolicy() (probe)
	 * mox accept: mox:mtasts/parse.go ParsePolicy(); mox:mtastsdb/db.go (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse(); stalwart:crates/smtp/src/outbound/mta_sts/lookup.rs
	 *     lookup_mta_sts_policy()
	 * mailauth reject: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon lenient-other: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https()
	 *     (only version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MAX_AGE_ABOVE_MAX] = { .id = "pol.max_age_above_max", .rfc = "3.2", .lenient = false,
		.accept = B(S_GOMTASTS) | B(S_MOX),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_MAILAUTH),
		.other = B(S_TLSPOL) | B(S_STALWART) | B(S_HALON),
		.note = "postfix-tlspol caps it at one year, Stalwart caches the policy for one "
			"day, Halon does not read max_age",
	},
	/*
	 * pol.max_age_sign (RFC 8461 3.2), example "max_age: +86400"
	 * rfc reject: rfc:3.2 ABNF sts-policy-max-age-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts accept: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 *     (probe)
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon lenient-other: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https()
	 *     (only version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MAX_AGE_SIGN] = { .id = "pol.max_age_sign", .rfc = "3.2", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = B(S_HALON),
		.note = "Halon does not read max_age",
	},
	/*
	 * pol.max_age_11_digits (RFC 8461 3.2), example "max_age: 00000086400"
	 * rfc reject: rfc:3.2 ABNF sts-policy-max-age-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation (probe)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts accept: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse_test.go TestParsePolicy bad("...max_age:01234567890")
	 *     (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 *     (probe)
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy()
	 * halon lenient-other: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https()
	 *     (only version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MAX_AGE_11_DIGITS] = { .id = "pol.max_age_11_digits", .rfc = "3.2", .lenient = true,
		.accept = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = B(S_HALON),
		.note = "Halon does not read max_age",
	},
	/*
	 * pol.mx_ipv4 (RFC 8461 3.2, 4.1), example "mx: 1.2.3.4"
	 * rfc accept: rfc:3.2 ABNF sts-policy-mx-value = ["*."] Domain (RFC 5321 4.1.2)
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation; pmsr:postfix_mta_sts_resolver/responder.py (answer
	 *     `secure match=` + mx.lstrip('*'); mx_host_pattern only with zone option tlsrpt:
	 *     true, default False in defaults.py)
	 * tlspol reject: tlspol:internal/utils/valid/valid.go IsDNSName();
	 *     tlspol:internal/mta-sts_test.go TestParseMtaStsPolicy "ip literal mx patterns are
	 *     rejected" (probe)
	 * gomtasts accept: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy(); mox:dns/dns.go ParseDomain() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MX_IPV4] = { .id = "pol.mx_ipv4", .rfc = "3.2, 4.1", .lenient = true,
		.accept = B(S_RFC) | B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_TLSPOL) | B(S_MOX),
		.other = 0,
		.note = "an IP address is never an MX host name (RFC 1123 2.1), so the pattern "
			"matches no MX host",
	},
	/*
	 * pol.mx_wildcard_ipv4 (RFC 8461 3.2, 4.1), example "mx: *.1.2.3.4"
	 * rfc accept: rfc:3.2 ABNF sts-policy-mx-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol reject: tlspol:internal/mta-sts_test.go TestParseMtaStsPolicy "ip literal mx
	 *     patterns are rejected" (probe)
	 * gomtasts accept: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MX_WILDCARD_IPV4] = { .id = "pol.mx_wildcard_ipv4", .rfc = "3.2, 4.1", .lenient = true,
		.accept = B(S_RFC) | B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH) |
			B(S_HALON),
		.reject = B(S_TLSPOL) | B(S_MOX),
		.other = 0,
		.note = "an IP address is never an MX host name (RFC 1123 2.1), so the pattern "
			"matches no MX host",
	},
	/*
	 * pol.mx_ulabel (RFC 8461 3.2), example "mx: mail.ñaca.com"
	 * rfc reject: rfc:3.2 ABNF sts-policy-mx-value, RFC 5321 Domain
	 * pmsr lenient-other: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/utils/valid/valid.go IsDNSName() (probe)
	 * gomtasts lenient-other: gomtasts:mtasts.go Policy.Match(), dns.go forLookup();
	 *     mtasts_test.go TestPolicyMatch ("x.ñaca.com" vs "x.xn--aca-6ma.com")
	 * mox reject: mox:mtasts/parse_test.go TestParsePolicy bad("...mx: møx.example") (probe)
	 * stalwart lenient-other: stalwart:parse.rs to_a_label(), test mx_patterns_are_a_labels
	 * mailauth lenient-other: mailauth:lib/mta-sts.js validateMx() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MX_ULABEL] = { .id = "pol.mx_ulabel", .rfc = "3.2", .lenient = false,
		.accept = B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.note = "of those that take it, mailauth never matches it and maddy and "
			"Stalwart convert it",
	},
	/*
	 * pol.mx_star_alone (RFC 8461 3.2, 4.1), example "mx: *"
	 * rfc reject: rfc:3.2 ABNF sts-policy-mx-value
	 * pmsr lenient-other: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() +
	 *     resolver.py STSResolver.resolve() validation;
	 *     pmsr:postfix_mta_sts_resolver/responder.py (answer `secure match=` + mx.lstrip('*');
	 *     mx_host_pattern only with zone option tlsrpt: true, default False in defaults.py)
	 * tlspol reject: tlspol:internal/utils/valid/valid.go IsDNSName() (probe)
	 * gomtasts lenient-other: gomtasts:mtasts.go readPolicy(); mtasts.go Policy.Match()
	 *     (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse()
	 * mailauth lenient-other: mailauth:lib/mta-sts.js validateMx()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MX_STAR_ALONE] = { .id = "pol.mx_star_alone", .rfc = "3.2, 4.1", .lenient = false,
		.accept = B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.note = "those that take it match no MX host with it",
	},
	/*
	 * pol.mx_inner_wildcard (RFC 8461 3.2, 4.1), example "mx: a.*.example.com"
	 * rfc reject: rfc:3.2 ABNF sts-policy-mx-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts lenient-other: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse()
	 * mailauth lenient-other: mailauth:lib/mta-sts.js validateMx()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MX_INNER_WILDCARD] = { .id = "pol.mx_inner_wildcard", .rfc = "3.2, 4.1", .lenient = false,
		.accept = B(S_PMSR) | B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.note = "those that read it otherwise compare it literally and match no MX host with it",
	},
	/*
	 * pol.mx_double_wildcard (RFC 8461 3.2, 4.1), example "mx: *.*.example.com"
	 * rfc reject: rfc:3.2 ABNF sts-policy-mx-value
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation; pmsr:postfix_mta_sts_resolver/responder.py (answer
	 *     `secure match=` + mx.lstrip('*'); mx_host_pattern only with zone option tlsrpt:
	 *     true, default False in defaults.py)
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts lenient-other: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse_test.go TestParsePolicy bad("...mx:*.*.example") (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse()
	 * mailauth lenient-other: mailauth:lib/mta-sts.js validateMx()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MX_DOUBLE_WILDCARD] = { .id = "pol.mx_double_wildcard", .rfc = "3.2, 4.1", .lenient = false,
		.accept = B(S_PMSR) | B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.note = "those that read it otherwise compare it literally and match no MX host with it",
	},
	/*
	 * pol.mx_trailing_dot (RFC 8461 3.2, 4.1), example "mx: mail.example.com."
	 * rfc reject: rfc:3.2 ABNF sts-policy-mx-value, RFC 5321 Domain
	 * pmsr accept: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() + resolver.py
	 *     STSResolver.resolve() validation
	 * tlspol accept: tlspol:internal/utils/valid/valid.go IsDNSName() (probe)
	 * gomtasts accept: gomtasts:dns.go forLookup()
	 * mox reject: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart unknown: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth lenient-other: mailauth:lib/mta-sts.js validateMx()
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MX_TRAILING_DOT] = { .id = "pol.mx_trailing_dot", .rfc = "3.2, 4.1", .lenient = true,
		.accept = B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_HALON),
		.reject = B(S_RFC) | B(S_MOX),
		.other = B(S_MAILAUTH),
		.note = "mailauth matches it only against an MX name written with the dot",
	},
	/*
	 * pol.mx_empty (RFC 8461 3.2), example "mx:"
	 * rfc reject: rfc:3.2 ABNF sts-policy-mx-value
	 * pmsr lenient-other: pmsr:postfix_mta_sts_resolver/utils.py parse_mta_sts_policy() +
	 *     resolver.py STSResolver.resolve() validation
	 * tlspol reject: tlspol:internal/mta-sts.go mtaStsPolicyParser.parseLine(),
	 *     parseMtaStsPolicy() (probe)
	 * gomtasts lenient-other: gomtasts:mtasts.go readPolicy() (probe)
	 * mox reject: mox:mtasts/parse_test.go TestParsePolicy bad("...mx:") (probe)
	 * stalwart lenient-other: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs
	 *     Policy::parse()
	 * mailauth lenient-other: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_MX_EMPTY] = { .id = "pol.mx_empty", .rfc = "3.2", .lenient = false,
		.accept = B(S_HALON),
		.reject = B(S_RFC) | B(S_TLSPOL) | B(S_MOX),
		.other = B(S_PMSR) | B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.note = "those that read it otherwise count it as an mx line that matches nothing",
	},
	/*
	 * pol.none_without_mx (RFC 8461 3.2), example "version/mode: none/max_age, no mx"
	 * rfc accept: rfc:3.2 ABNF comment on sts-policy-mx
	 * pmsr accept: pmsr:tests/test_resolver.py test_resolve_status (fixtures
	 *     tests/dnsmasq.conf.appendix, tests/nginx.conf) valid-none.loc -> VALID
	 * tlspol accept: tlspol:internal/mta-sts_test.go TestParseMtaStsPolicy "none mode permits
	 *     no mx" (probe)
	 * gomtasts accept: gomtasts:mtasts_test.go TestReadPolicy case "mode:none" with no mx
	 *     (probe)
	 * mox accept: mox:mtasts/parse.go ParsePolicy() (probe)
	 * stalwart reject: stalwart:crates/smtp/src/outbound/mta_sts/parse.rs Policy::parse()
	 * mailauth accept: mailauth:lib/mta-sts.js parsePolicy() (probe)
	 * halon accept: halon:mta-sts.hsl mta_sts_parse_policy() + mta_sts_fetch_https() (only
	 *     version is checked)
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_POL_NONE_WITHOUT_MX] = { .id = "pol.none_without_mx", .rfc = "3.2", .lenient = true,
		.accept = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) |
			B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_STALWART),
		.other = 0,
		.note = "a sender that refuses this policy keeps enforcing a cached one until "
			"it expires instead of retiring it",
	},
	/*
	 * fetch.ctype_other (RFC 8461 3.3), example "Content-Type: text/html"
	 * rfc reject: rfc:3.3
	 * pmsr reject: pmsr:tests/test_resolver.py test_resolve_status (fixtures
	 *     tests/dnsmasq.conf.appendix, tests/nginx.conf) bad-policy3.loc (text/html)
	 * tlspol reject: tlspol:internal/mta-sts_test.go TestMtaStsPolicyMediaType (text/html)
	 * gomtasts reject: gomtasts:cache.go downloadPolicy()
	 * mox accept: mox:mtasts/mtasts.go FetchPolicy() comment "We don't look at Content-Type
	 *     and charset"
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/lookup.rs
	 *     lookup_mta_sts_policy()
	 * mailauth accept: mailauth:lib/mta-sts.js fetchPolicy()
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_https()
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_FETCH_CTYPE_OTHER] = { .id = "fetch.ctype_other", .rfc = "3.3", .lenient = true,
		.accept = B(S_MOX) | B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS),
		.other = 0,
	},
	/*
	 * fetch.ctype_missing (RFC 8461 3.3), example "no Content-Type header"
	 * rfc reject: rfc:3.3
	 * pmsr reject: pmsr:utils.py is_plaintext(); resolver.py
	 * tlspol reject: tlspol:internal/mta-sts_test.go TestMtaStsPolicyMediaType ("")
	 * gomtasts reject: gomtasts:cache.go downloadPolicy()
	 * mox accept: mox:mtasts/mtasts.go FetchPolicy()
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/lookup.rs
	 *     lookup_mta_sts_policy()
	 * mailauth accept: mailauth:lib/mta-sts.js fetchPolicy()
	 * halon accept: halon:mta-sts.hsl mta_sts_fetch_https()
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_FETCH_CTYPE_MISSING] = { .id = "fetch.ctype_missing", .rfc = "3.3", .lenient = true,
		.accept = B(S_MOX) | B(S_STALWART) | B(S_MAILAUTH) | B(S_HALON),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS),
		.other = 0,
	},
	/*
	 * fetch.status_2xx_not_200 (RFC 8461 3.3), example "203 with a valid policy body"
	 * rfc reject: rfc:3.3
	 * pmsr reject: pmsr:postfix_mta_sts_resolver/resolver.py STSResolver.resolve()
	 * tlspol reject: tlspol:internal/mta-sts.go checkMtaStsOnce()
	 * gomtasts reject: gomtasts:cache.go downloadPolicy()
	 * mox reject: mox:mtasts/mtasts.go FetchPolicy()
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/lookup.rs
	 *     lookup_mta_sts_policy()
	 * mailauth accept: mailauth:lib/mta-sts.js fetchPolicy()
	 * halon reject: halon:mta-sts.hsl mta_sts_fetch_https()
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_FETCH_STATUS_2XX] = { .id = "fetch.status_2xx_not_200", .rfc = "3.3", .lenient = false,
		.accept = B(S_STALWART) | B(S_MAILAUTH),
		.reject = B(S_RFC) | B(S_PMSR) | B(S_TLSPOL) | B(S_GOMTASTS) | B(S_MOX) |
			B(S_HALON),
		.other = 0,
	},
	/*
	 * fetch.body_over_64k (RFC 8461 3.3), example "65 537-byte body"
	 * rfc lenient-other: rfc:3.3
	 * pmsr reject: pmsr:constants.py, resolver.py; pmsr:tests/test_resolver.py
	 *     test_resolve_status (fixtures tests/dnsmasq.conf.appendix, tests/nginx.conf)
	 *     static-overlength.loc, chunked-overlength.loc
	 * tlspol reject: tlspol:internal/mta-sts.go parseMtaStsPolicy();
	 *     tlspol:internal/mta-sts_test.go TestParseMtaStsPolicy "oversized policy is invalid"
	 * gomtasts accept: gomtasts:cache.go downloadPolicy(), mtasts.go readPolicy()
	 * mox reject: mox:mtasts/mtasts.go FetchPolicy(); moxio/limitreader.go
	 * stalwart accept: stalwart:crates/smtp/src/outbound/mta_sts/lookup.rs
	 *     lookup_mta_sts_policy()
	 * mailauth accept: mailauth:lib/mta-sts.js fetchPolicy()
	 * halon unknown: halon:mta-sts.hsl mta_sts_fetch_https()
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_FETCH_BODY_OVER_64K] = { .id = "fetch.body_over_64k", .rfc = "3.3", .lenient = false,
		.accept = B(S_GOMTASTS) | B(S_STALWART) | B(S_MAILAUTH),
		.reject = B(S_PMSR) | B(S_TLSPOL) | B(S_MOX),
		.other = B(S_RFC),
		.note = "RFC 8461 3.3 lets senders stop reading at 64 KiB",
	},
	/*
	 * fetch.slow_10s (RFC 8461 3.3), example "policy host answers after 10 s"
	 * rfc accept: rfc:3.3
	 * pmsr reject: pmsr:defaults.py TIMEOUT; resolver.py STSResolver.__init__
	 * tlspol reject: tlspol:internal/server.go REQUEST_TIMEOUT; internal/mta-sts.go httpClient
	 * gomtasts accept: gomtasts:cache.go httpClient
	 * mox accept: mox:mtasts/mtasts.go FetchPolicy()
	 * stalwart accept: stalwart:crates/registry/src/schema/structs_impl.rs default
	 *     mta_sts_timeout; stalwart:crates/smtp/src/outbound/mta_sts/lookup.rs
	 *     lookup_mta_sts_policy()
	 * mailauth accept: mailauth:lib/mta-sts.js fetchPolicy()
	 * halon reject: halon:mta-sts.hsl mta_sts_fetch_https()
	 * microsoft unknown: msdoc:microsoft-365/compliance/enhancing-mail-flow-with-mta-sts.md
	 */
	[SR_FETCH_SLOW_10S] = { .id = "fetch.slow_10s", .rfc = "3.3", .lenient = true,
		.accept = B(S_RFC) | B(S_GOMTASTS) | B(S_MOX) | B(S_STALWART) | B(S_MAILAUTH),
		.reject = B(S_PMSR) | B(S_TLSPOL) | B(S_HALON),
		.other = 0,
		.note = "postfix-mta-sts-resolver gives up after 4 s, postfix-tlspol after 2 s, "
			"Halon after 5 s",
	},
};

static const struct {
	const char *id, *name;
} senders[S__COUNT] = {
	[S_RFC] = { "rfc", "the RFC 8461 grammar" },
	[S_PMSR] = { "pmsr", "postfix-mta-sts-resolver" },
	[S_TLSPOL] = { "tlspol", "postfix-tlspol" },
	[S_GOMTASTS] = { "gomtasts", "maddy (go-mtasts)" },
	[S_MOX] = { "mox", "mox" },
	[S_STALWART] = { "stalwart", "Stalwart" },
	[S_MAILAUTH] = { "mailauth", "mailauth" },
	[S_HALON] = { "halon", "Halon" },
	[S_GOOGLE] = { "google", "Google" },
	[S_MICROSOFT] = { "microsoft", "Microsoft" },
};

const struct sender_profile *sender_profile(enum sender_rule rule)
{
	if (rule <= SR_NONE || rule >= SR__COUNT || !table[rule].id)
		return NULL;
	return &table[rule];
}

enum sender_rule sender_rule_parse(const char *id)
{
	for (int r = SR_NONE + 1; r < SR__COUNT; r++)
		if (table[r].id && strcmp(table[r].id, id) == 0)
			return (enum sender_rule)r;
	return SR_NONE;
}

const char *sender_id(enum sender s)
{
	return (unsigned)s < S__COUNT ? senders[s].id : "unknown";
}

const char *sender_name(enum sender s)
{
	return (unsigned)s < S__COUNT ? senders[s].name : "unknown";
}

/* "a, b and c" of the columns in mask, appended to buf at *pos. */
static void name_list(unsigned mask, char *buf, size_t len, size_t *pos)
{
	unsigned n = 0, total = 0;

	for (int s = 0; s < S__COUNT; s++)
		total += (mask & SENDER_BIT(s)) != 0;
	for (int s = 0; s < S__COUNT; s++) {
		const char *sep;
		int k;

		if (!(mask & SENDER_BIT(s)))
			continue;
		sep = n == 0 ? "" : n + 1 == total ? " and " : ", ";
		n++;
		if (*pos >= len)
			return;
		k = snprintf(buf + *pos, len - *pos, "%s%s", sep, senders[s].name);
		if (k < 0)
			return;
		*pos = (size_t)k < len - *pos ? *pos + (size_t)k : len;
	}
}

static void clause(const char *lead, unsigned mask, const char *tail, char *buf, size_t len,
		   size_t *pos)
{
	int k;

	if (!mask || *pos >= len)
		return;
	k = snprintf(buf + *pos, len - *pos, "%s%s", *pos ? "; " : "", lead);
	if (k < 0)
		return;
	*pos = (size_t)k < len - *pos ? *pos + (size_t)k : len;
	name_list(mask, buf, len, pos);
	if (*pos < len && tail[0]) {
		k = snprintf(buf + *pos, len - *pos, "%s", tail);
		if (k > 0)
			*pos = (size_t)k < len - *pos ? *pos + (size_t)k : len;
	}
}

void senders_str(unsigned accept, unsigned reject, unsigned other, char *buf, size_t len)
{
	unsigned unknown = SENDERS_ALL & ~(accept | reject | other);
	size_t pos = 0;

	if (!len)
		return;
	buf[0] = '\0';
	clause("rejected by ", reject, "", buf, len, &pos);
	clause("accepted by ", accept, "", buf, len, &pos);
	clause("read otherwise by ", other, "", buf, len, &pos);
	clause("", unknown, ": unknown", buf, len, &pos);
}

enum severity senders_severity(enum sender_rule rule, enum severity base, enum findings_view view)
{
	const struct sender_profile *p = sender_profile(rule);

	if (!p)
		return base;
	switch (view) {
	case VIEW_LINT_LENIENT:
		return base;
	case VIEW_LINT_STRICT:
		/* authors publish what every sender reads: any rejection is an error */
		return p->reject & (SENDERS_KNOWN | SENDER_BIT(S_RFC)) ? SEV_CRITICAL : base;
	case VIEW_LIVE:
		break;
	}
	if (p->lenient && (p->reject & SENDERS_KNOWN))
		return severity_worst(base, SEV_WARNING);
	return base;
}

struct finding_occurrence *senders_add(struct findings *fs, enum finding_code code,
				       enum severity base, const char *subject,
				       enum sender_rule rule)
{
	const struct sender_profile *p = sender_profile(rule);
	struct finding_occurrence *fo;
	char who[WHO_LEN];
	const char *lead;

	fo = findings_add(fs, code, senders_severity(rule, base, fs->view), subject);
	if (!p)
		return fo;
	finding_set_senders(fo, (unsigned)rule, p->accept, p->reject, p->other);
	senders_str(p->accept, p->reject, p->other, who, sizeof(who));
	if (!p->lenient)
		lead = "senders that reject it ignore your policy, so mail from them is not "
		       "protected";
	else if (p->reject & SENDERS_KNOWN)
		lead = "some senders ignore your policy, so mail from them is not protected";
	else
		lead = "senders read it differently";
	finding_set_consequence(fo, "%s: %s%s%s", lead, who, p->note ? "; " : "",
				p->note ? p->note : "");
	return fo;
}

bool senders_rejected(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].senders_rules && fs->v[i].sev == SEV_CRITICAL)
			return true;
	return false;
}
