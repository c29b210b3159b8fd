// peer-mailauth.js: the benchmark's peer. Fetch the MTA-STS policy of every domain in a
// file with mailauth's getPolicy, all domains in flight at once, and print one JSON line:
// {"domains": N, "ok": N, "errors": N, "statuses": {...}, "seconds": S}.
//   node peer-mailauth.js RESOLVER DOMAINS_FILE
// The lab CA comes in through NODE_EXTRA_CA_CERTS.
'use strict';
const fs = require('node:fs');
const dns = require('node:dns');
const { getPolicy } = require('mailauth/lib/mta-sts');

async function main() {
    const [resolver, file] = process.argv.slice(2);
    if (!resolver || !file) {
        console.error('usage: node peer-mailauth.js RESOLVER DOMAINS_FILE');
        process.exit(2);
    }
    dns.setServers([resolver]);
    const domains = fs.readFileSync(file, 'utf8').split('\n').map(s => s.trim()).filter(Boolean);
    const t0 = process.hrtime.bigint();
    // getPolicy never throws: a failure comes back as status "errored" with mode "none"
    // (a sender's fallback), so only status "found" with a valid mode counts as ok
    const results = await Promise.all(domains.map(d => getPolicy(d, false).then(r => {
        if (r && r.status === 'found' && !r.policy.error && r.policy.mode !== 'none')
            return 'ok';
        if (r && r.status === 'errored')
            return 'error:' + ((r.policy.error && r.policy.error.code) || 'unknown');
        return (r && r.status) || 'none';
    }, e => 'error:' + (e.code || 'thrown'))));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const statuses = {};
    for (const r of results)
        statuses[r] = (statuses[r] || 0) + 1;
    console.log(JSON.stringify({ domains: domains.length, ok: statuses.ok || 0,
        errors: results.filter(r => r.startsWith('error')).length, statuses, seconds }));
}

main().catch(e => { console.error(e); process.exit(1); });
