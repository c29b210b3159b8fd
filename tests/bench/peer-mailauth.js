// peer-mailauth.js: the benchmark's peer. Fetch the MTA-STS policy of every domain in a
// file with mailauth's getPolicy and print one JSON line:
// {"domains": N, "ok": N, "errors": N, "statuses": {...}, "seconds": S, "in_flight": C}.
//   node peer-mailauth.js RESOLVER DOMAINS_FILE [IN_FLIGHT]
// IN_FLIGHT: how many domains at once; 0 or absent: every domain at once (Promise.all).
// The lab CA comes in through NODE_EXTRA_CA_CERTS.
'use strict';
const fs = require('node:fs');
const dns = require('node:dns');
const { getPolicy } = require('mailauth/lib/mta-sts');

// getPolicy never throws: a failure comes back as status "errored" with mode "none"
// (a sender's fallback), so only status "found" with a valid mode counts as ok
function verdict(r) {
    if (r && r.status === 'found' && !r.policy.error && r.policy.mode !== 'none')
        return 'ok';
    if (r && r.status === 'errored')
        return 'error:' + ((r.policy.error && r.policy.error.code) || 'unknown');
    return (r && r.status) || 'none';
}

function one(d) {
    return getPolicy(d, false).then(verdict, e => 'error:' + (e.code || 'thrown'));
}

// at most `limit` domains in flight: each worker takes the next domain when it is done
async function pool(domains, limit) {
    const results = new Array(domains.length);
    let next = 0;
    async function worker() {
        while (next < domains.length) {
            const i = next++;
            results[i] = await one(domains[i]);
        }
    }
    await Promise.all(Array.from({ length: Math.min(limit, domains.length) }, worker));
    return results;
}

async function main() {
    const [resolver, file, inFlight] = process.argv.slice(2);
    if (!resolver || !file) {
        console.error('usage: node peer-mailauth.js RESOLVER DOMAINS_FILE [IN_FLIGHT]');
        process.exit(2);
    }
    dns.setServers([resolver]);
    const domains = fs.readFileSync(file, 'utf8').split('\n').map(s => s.trim()).filter(Boolean);
    const limit = Number(inFlight || 0);
    const t0 = process.hrtime.bigint();
    const results = limit > 0 ? await pool(domains, limit) : await Promise.all(domains.map(one));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const statuses = {};
    for (const r of results)
        statuses[r] = (statuses[r] || 0) + 1;
    console.log(JSON.stringify({ domains: domains.length, ok: statuses.ok || 0,
        errors: results.filter(r => r.startsWith('error')).length, statuses, seconds,
        in_flight: limit > 0 ? limit : domains.length }));
}

main().catch(e => { console.error(e); process.exit(1); });
