// The peer in the load benchmark: npm deep-email-validator on the same addresses, DNS server and
// mail servers as safetynet. Usage:
//   node deep_email_validator.mjs PACKAGE_DIR DNS_SERVER CONCURRENCY ADDRESS_FILE > results.jsonl
// PACKAGE_DIR holds node_modules/deep-email-validator (scripts/bench-load installs it there).
// The package asks the MX with dns.resolveMx and connects to the MX host by name; both are
// pointed at DNS_SERVER (dns.setServers and a dns.lookup that asks it), nothing else is changed.
import { createRequire } from 'node:module';
import dns from 'node:dns';
import fs from 'node:fs';
import path from 'node:path';

const [packageDir, dnsServer, concurrencyArg, addressFile] = process.argv.slice(2);
if (!addressFile) {
  console.error('usage: node deep_email_validator.mjs PACKAGE_DIR DNS_SERVER CONCURRENCY ADDRESS_FILE');
  process.exit(2);
}
dns.setServers([dnsServer]);
dns.lookup = (host, options, callback) => {
  if (typeof options === 'function') callback = options;
  dns.resolve4(host, (err, addresses) => {
    if (err) return callback(err);
    if (options && options.all) return callback(null, addresses.map((a) => ({ address: a, family: 4 })));
    callback(null, addresses[0], 4);
  });
};

const require = createRequire(path.join(path.resolve(packageDir), 'package.json'));
const { validate } = require('deep-email-validator');

const addresses = fs.readFileSync(addressFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
const concurrency = Number(concurrencyArg);
let next = 0;
const out = [];
async function worker() {
  while (next < addresses.length) {
    const i = next++;
    const start = process.hrtime.bigint();
    const r = await validate(addresses[i]);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    out[i] = JSON.stringify({ address: addresses[i], valid: r.valid, reason: r.reason ?? null,
                              detail: r.reason ? (r.validators[r.reason]?.reason ?? null) : null, duration_ms: ms });
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(out.join('\n') + '\n');
