// OpenPGP.js 6 as a subscriber's client, driven by the Cloister test suite
// (runners/peer_openpgpjs_test.go). Data comes on standard input and goes to
// standard output; keys and certificates are files in the working directory.
// A failed check exits non-zero with the reason on standard error. "serve"
// runs one command a line from standard input instead (see serve).
//
//   gen v4|v6 EMAIL PREFIX [gcm|ocb]  writes PREFIX.key (secret, unprotected) and PREFIX.asc
//   sign KEY                          detached armored signature of the input
//   inline-sign KEY                   armored inline-signed message of the input
//   encrypt CERT [KEY] [gcm|ocb]      armored message to CERT, signed by KEY unless "-";
//                                     reports the packet versions on standard error
//   decrypt KEY SIGNER                decrypts; fails unless SIGNER's signature verifies;
//                                     reports the packet versions on standard error
//   verify CERT SIG                   checks the detached signature file SIG on the input
//   verify-inline CERT                checks an inline-signed message, prints its data
//   verify-clear CERT                 checks a clear-signed message, prints its text
import { readFileSync, writeFileSync } from 'node:fs';
import * as openpgp from 'openpgp';

const enums = openpgp.enums;

// The command being run: its input, and its output and report as written.
let current = { stdin: new Uint8Array(), out: [], err: [] };

function input() {
  return current.stdin;
}

function out(data) {
  current.out.push(Buffer.from(data));
}

function report(text) {
  current.err.push(Buffer.from(text));
}

async function secret(path) {
  return openpgp.readPrivateKey({ armoredKey: readFileSync(path, 'utf8') });
}

async function cert(path) {
  return openpgp.readKey({ armoredKey: readFileSync(path, 'utf8') });
}

function aeadConfig(mode) {
  if (!mode) return {};
  return { aeadProtect: true, preferredAEADAlgorithm: mode === 'gcm' ? enums.aead.gcm : enums.aead.ocb };
}

// checkSigs awaits every signature's verification and fails unless one
// verifies and none is bad.
async function checkSigs(signatures, who) {
  if (signatures.length === 0) throw new Error(`no signature (wanted ${who}'s)`);
  for (const s of signatures) {
    await s.verified; // throws on a bad or unknown signature
  }
}

// packetVersions names the packets of an encrypted message with their
// versions: pkesk-v3, pkesk-v6 (with -anon for a hidden recipient), seipd-v1,
// seipd-v2-ocb, seipd-v2-gcm.
function packetVersions(message) {
  return message.packets.map((p) => {
    const tag = p.constructor.tag;
    if (tag === enums.packet.publicKeyEncryptedSessionKey) {
      // An anonymous recipient (hidden key ID): a wildcard key ID (v3) or
      // no fingerprint (v6).
      const anon = p.version === 6 ? p.publicKeyFingerprint === null : p.publicKeyID.isWildcard();
      return `pkesk-v${p.version}${anon ? '-anon' : ''}`;
    }
    if (tag === enums.packet.symEncryptedIntegrityProtectedData) {
      return p.version === 2 ? `seipd-v2-${enums.read(enums.aead, p.aeadAlgorithm)}` : 'seipd-v1';
    }
    return enums.read(enums.packet, tag);
  });
}

const commands = {
  async gen([version, email, prefix, mode]) {
    const config = { ...aeadConfig(mode), v6Keys: version === 'v6' };
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: version === 'v6' ? 'curve25519' : 'ecc',
      userIDs: [{ email }],
      format: 'armored',
      config,
    });
    writeFileSync(`${prefix}.key`, privateKey);
    writeFileSync(`${prefix}.asc`, publicKey);
  },
  async sign([keyPath]) {
    const message = await openpgp.createMessage({ binary: input() });
    out(await openpgp.sign({ message, signingKeys: await secret(keyPath), detached: true }));
  },
  async 'inline-sign'([keyPath]) {
    const message = await openpgp.createMessage({ binary: input() });
    out(await openpgp.sign({ message, signingKeys: await secret(keyPath) }));
  },
  async encrypt([certPath, keyPath, mode]) {
    const message = await openpgp.createMessage({ binary: input() });
    const opts = { message, encryptionKeys: await cert(certPath), config: aeadConfig(mode) };
    if (keyPath && keyPath !== '-') opts.signingKeys = await secret(keyPath);
    const armored = await openpgp.encrypt(opts);
    const written = await openpgp.readMessage({ armoredMessage: armored });
    report(`packets: ${packetVersions(written).join(' ')}\n`);
    out(armored);
  },
  async decrypt([keyPath, signerPath]) {
    const message = await openpgp.readMessage({ armoredMessage: new TextDecoder().decode(input()) });
    const versions = packetVersions(message);
    const { data, signatures } = await openpgp.decrypt({
      message,
      decryptionKeys: await secret(keyPath),
      verificationKeys: await cert(signerPath),
      expectSigned: true,
      format: 'binary',
    });
    await checkSigs(signatures, signerPath);
    report(`packets: ${versions.join(' ')}\n`);
    out(data);
  },
  async verify([certPath, sigPath]) {
    const message = await openpgp.createMessage({ binary: input() });
    const signature = await openpgp.readSignature({ armoredSignature: readFileSync(sigPath, 'utf8') });
    const { signatures } = await openpgp.verify({ message, signature, verificationKeys: await cert(certPath), expectSigned: true });
    await checkSigs(signatures, certPath);
  },
  async 'verify-inline'([certPath]) {
    const message = await openpgp.readMessage({ armoredMessage: new TextDecoder().decode(input()) });
    const { data, signatures } = await openpgp.verify({ message, verificationKeys: await cert(certPath), expectSigned: true, format: 'binary' });
    await checkSigs(signatures, certPath);
    out(data);
  },
  async 'verify-clear'([certPath]) {
    const message = await openpgp.readCleartextMessage({ cleartextMessage: new TextDecoder().decode(input()) });
    const { data, signatures } = await openpgp.verify({ message, verificationKeys: await cert(certPath), expectSigned: true });
    await checkSigs(signatures, certPath);
    out(data);
  },
};

// run runs one command on stdin and returns its status, output and report.
async function run(cmd, args, stdin) {
  current = { stdin, out: [], err: [] };
  let status = 0;
  if (!commands[cmd]) {
    report(`usage: peer.mjs serve|gen|sign|inline-sign|encrypt|decrypt|verify|verify-inline|verify-clear ...\n`);
    status = 2;
  } else {
    try {
      await commands[cmd](args);
    } catch (err) {
      report(`openpgpjs ${cmd}: ${err.message}\n`);
      status = 1;
    }
  }
  return { status, out: Buffer.concat(current.out), err: Buffer.concat(current.err) };
}

// serve runs commands read from standard input, one a line: a JSON object
// {"args": [...], "stdin": base64}. Each answer is a line "STATUS OUTLEN
// ERRLEN" followed by the command's output and report bytes, so that one
// Node process serves a whole test.
async function serve() {
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    const req = JSON.parse(line);
    const [cmd, ...args] = req.args;
    const r = await run(cmd, args, new Uint8Array(Buffer.from(req.stdin || '', 'base64')));
    await new Promise((resolve) => process.stdout.write(Buffer.concat([Buffer.from(`${r.status} ${r.out.length} ${r.err.length}\n`), r.out, r.err]), resolve));
  }
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'serve') {
  await serve();
} else {
  const r = await run(cmd, args, new Uint8Array(readFileSync(0)));
  process.stdout.write(r.out);
  process.stderr.write(r.err);
  process.exitCode = r.status;
}
