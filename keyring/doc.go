// Package keyring stores Cloister's keys in keyring.db: each list's own
// OpenPGP key and S/MIME certificate with their private keys encrypted at
// rest, and subscribers' OpenPGP keys and certificates, judged (expired,
// revoked, no usable subkey) every time they are used.
//
// # Sharing keyring.db between processes
//
// keyring.db is a bbolt file used exactly as cloister.db (see package lists
// and cloister/internal/boltfile): no process keeps it open. Every unit of
// work takes a flock on keyring.db.lock with a time-out (shared for reads,
// exclusive for writes), opens the file, runs one transaction and closes it.
// Writers are the CLI (key generate, import, add, revoke) and the incoming
// runner when it captures a certificate; readers are all runners.
//
// Runners read far more often than anyone writes, and a fan-out looks up one
// key per subscriber, so reads are served from an in-memory snapshot of the
// whole keyring. Every write first replaces a random token in
// keyring.db.gen (while holding the exclusive lock), then commits. A lookup
// reads that small file, and when the token still equals the one its
// snapshot was loaded with, answers from memory; otherwise it reloads the
// snapshot in one shared-lock transaction. A lookup therefore sees every
// write that finished before it began, and readers never serialise one
// another. The generation file stays open and is read with pread; once a
// second a reader also stats keyring.db and the generation file, so that a
// file replaced without a write through this package (a restore, a copy)
// is noticed within a second. Parsed OpenPGP keys are cached by fingerprint and stored bytes,
// with their self-signatures verified once; the key's state at the time of
// use (expiry, revocation, usable subkeys) is still judged on every lookup.
// Returned entities and certificates are shared: callers must not modify
// them.
//
// # Private keys and the keyring passphrase
//
// A list's private key (the serialized OpenPGP secret key packets, or the
// S/MIME key as PKCS#8) is sealed with AES-256-GCM under a key derived from
// the keyring passphrase by Argon2id (t=2, 64 MiB, 2 lanes, a random salt
// per record; the parameters are stored with the record), with the list
// address and key kind as additional data. OpenPGP's own S2K protection is
// not used: one scheme covers both kinds, and a copied record does not open
// under another list. The passphrase never sits in cloister.toml
// (security invariant 7): LoadPassphrase reads keyring_passphrase_file, or
// the systemd credential $CREDENTIALS_DIRECTORY/keyring-passphrase
// (LoadCredential= or SetCredentialEncrypted= in the runner units), and
// refuses a file readable by others. Unlocking costs one Argon2id
// derivation (tens of milliseconds), so each process keeps the unlocked keys
// it used, keyed by the stored bytes: a runner unlocks once, and again only
// after the key is replaced.
package keyring
