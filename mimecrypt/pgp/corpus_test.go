package pgp

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

// corpusNow is the day the corpus verdicts were checked (SOURCES.md).
var corpusNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// Key files (in <source>/keys/) used as the list's only secret key.
const (
	tbAlice   = "alice@openpgp.example-0xf231550c4f47e38e-secret.asc"
	tbBob     = "bob@openpgp.example-0xfbfcc82a015e7330-secret.asc"
	tbCarolR  = "carol@pgp.icu-0xEF2FD01608AFD744-revoked-secret.asc"
	acBob     = "bob@autocrypt.example.sec.asc"
	acAlice   = "alice@autocrypt.example.sec.asc"
	dcAlice   = "alice-secret.asc"
	dcBob     = "bob-secret.asc"
	nmKey     = "openpgp4-secret-key.asc"
	phBob     = "bob@openpgp.example.sec.asc"
	slList    = "list-secring.gpg"
	slEncList = "encapsulated-list.sec"
)

// TestCorpus opens every OpenPGP message of the corpus with one list key (the
// one SOURCES.md says opens it, or every secret key of the folder when the
// message is not encrypted to any) and every key of the folder as known
// senders, and checks encryption, verdict and error against SOURCES.md.
// Deliberate differences from SOURCES.md are commented on their line.
func TestCorpus(t *testing.T) {
	corpus := testdirs.Corpus(t)
	none, pgpmime, inline := mimecrypt.EncNone, mimecrypt.EncPGPMIME, mimecrypt.EncPGPInline
	const (
		vNone     = mimecrypt.VerdictNone
		vGood     = mimecrypt.VerdictGood
		vBad      = mimecrypt.VerdictBad
		vUnknown  = mimecrypt.VerdictUnknownKey
		vExpired  = mimecrypt.VerdictExpired
		vMismatch = mimecrypt.VerdictSignerMismatch
	)
	tests := []struct {
		file    string // <source>/msgs/<file>
		listKey string // key file opening it; "" = all secret keys of the source
		enc     mimecrypt.Encryption
		verdict mimecrypt.Verdict
		err     error  // wanted error (errors.Is), nil for none
		subject string // Subject of Result.Message when not ""
	}{
		// thunderbird-openpgp
		{"thunderbird-openpgp/signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted.eml", "", none, vGood, nil, ""},
		{"thunderbird-openpgp/signed-by-0x3099ff1238852b9f-to-0xf231550c4f47e38e-unencrypted.eml", "", none, vGood, nil, ""},
		{"thunderbird-openpgp/signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted-with-key.eml", "", none, vGood, nil, ""},
		{"thunderbird-openpgp/bob-to-alice-signed-damaged-signature.eml", "", none, vBad, nil, ""},
		// SOURCES: policy/bad because Date and signature time differ by a year.
		// Cloister does not bind Date (Delta Chat and notmuch send far-off Dates
		// on good signatures), so the verdict is the signature's: good.
		{"thunderbird-openpgp/signed-mismatch-email-date.eml", "", none, vGood, nil, ""},
		// Partly signed mailing-list shapes: not the message's signature.
		{"thunderbird-openpgp/signed-with-mailman-footer.eml", "", none, vNone, nil, ""},
		{"thunderbird-openpgp/signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted-in-mixed.eml", "", none, vNone, nil, ""},
		{"thunderbird-openpgp/openpgp__stripped_sig.eml", "", none, vBad, nil, ""},
		{"thunderbird-openpgp/multiple-signatures.eml", "", none, vNone, nil, ""},
		// S/MIME outer signature: left to the S/MIME layer.
		{"thunderbird-openpgp/dual-signed-uncommon-content-type.eml", "", none, vNone, nil, ""},
		{"thunderbird-openpgp/unob-signed-by-0x3099ff1238852b9f-to-0xf231550c4f47e38e.eml", "", none, vNone, nil, ""},
		{"thunderbird-openpgp/unsigned-encrypted-to-0xf231550c4f47e38e-from-0xfbfcc82a015e7330.eml", tbAlice, pgpmime, vNone, nil, ""},
		{"thunderbird-openpgp/unsigned-encrypted-to-0xf231550c4f47e38e-from-0xfbfcc82a015e7330.eml", tbBob, pgpmime, vNone, nil, ""},
		{"thunderbird-openpgp/signed-by-0xfbfcc82a015e7330-encrypted-to-0xf231550c4f47e38e.eml", tbAlice, pgpmime, vGood, nil, ""},
		{"thunderbird-openpgp/signed-by-0x3099ff1238852b9f-encrypted-to-0xf231550c4f47e38e.eml", tbAlice, pgpmime, vGood, nil, ""},
		{"thunderbird-openpgp/signed-by-0x3099ff1238852b9f-encrypted-to-0xf231550c4f47e38e.eml", tbBob, pgpmime, vNone, mimecrypt.ErrNoKey, ""},
		{"thunderbird-openpgp/signed-by-0xfbfcc82a015e7330-encrypted-to-0xf231550c4f47e38e-multi-from.eml", tbBob, pgpmime, vMismatch, nil, ""},
		{"thunderbird-openpgp/encrypted-to-alice-as-hidden-recipient.eml", tbAlice, pgpmime, vNone, nil, ""},
		{"thunderbird-openpgp/encrypted-to-alice-as-hidden-recipient.eml", tbBob, pgpmime, vNone, mimecrypt.ErrNoKey, ""},
		{"thunderbird-openpgp/enc-to-carol@pgp.icu-revoked.eml", tbCarolR, pgpmime, vUnknown, nil, ""},
		{"thunderbird-openpgp/encrypted-and-signed-alice-to-bob-nonascii.eml", tbBob, pgpmime, vGood, nil, ""},
		{"thunderbird-openpgp/signed-encrypted-autocrypt-gossip.eml", tbAlice, pgpmime, vGood, nil, ""},
		// Forwarded as message/rfc822: the outer message is not encrypted.
		{"thunderbird-openpgp/fwd-unsigned-encrypted.eml", "", none, vNone, nil, ""},
		{"thunderbird-openpgp/inner-smime-sig-in-pgp-encrypted.eml", tbAlice, pgpmime, vNone, nil, ""},
		// Outer signatures around encryption are ignored (they cover ciphertext).
		{"thunderbird-openpgp/outer-pgp-sig-inner-pgp-enc.eml", tbAlice, pgpmime, vNone, nil, ""},
		{"thunderbird-openpgp/outer-smime-bad-sig-inner-pgp-enc.eml", tbAlice, pgpmime, vNone, nil, ""},
		// Decryption-oracle shape: the encrypted part is not at the top: not
		// decrypted; the outer signature is checked and is bad.
		{"thunderbird-openpgp/outer-pgp-sig-inner-pgp-enc-with-mixed.eml", tbAlice, none, vBad, nil, ""},
		{"thunderbird-openpgp/alice-broken-exchange.eml", tbAlice, pgpmime, vNone, nil, "broken exchange test message"},
		{"thunderbird-openpgp/sigspoof-git-commit.eml", "", pgpmime, vNone, mimecrypt.ErrMalformed, ""},
		{"thunderbird-openpgp/rc-openpgp-mdc.eml", tbBob, pgpmime, vNone, nil, "rc mdc allow"},
		{"thunderbird-openpgp/rc-openpgp-aead.eml", tbBob, pgpmime, vNone, nil, "rc aead allow"},
		{"thunderbird-openpgp/rc-openpgp-nomdc.eml", tbBob, pgpmime, vNone, mimecrypt.ErrNoIntegrity, ""},
		{"thunderbird-openpgp/rc-openpgp-mdc-tampered.eml", tbBob, pgpmime, vNone, mimecrypt.ErrMalformed, ""},
		{"thunderbird-openpgp/alice-signed.eml", "", none, vGood, nil, ""},
		{"thunderbird-openpgp/signed-inline-indented.eml", "", none, vGood, nil, ""},
		{"thunderbird-openpgp/inline-signed-latin1.eml", "", none, vUnknown, nil, ""},
		{"thunderbird-openpgp/bob-enc-inline-nbsp-qp.eml", tbAlice, inline, vNone, nil, ""},
		// SOURCES: opens with alice, only part of the message is encrypted.
		// Cloister does not decrypt an inline block with text around it (same
		// oracle shape as an encrypted part inside multipart/mixed).
		{"thunderbird-openpgp/partial-encrypt-for-alice-plaintext.eml", tbAlice, none, vNone, nil, ""},
		{"thunderbird-openpgp/partial-encrypt-for-carol-plaintext.eml", "", none, vNone, nil, ""},
		{"thunderbird-openpgp/unsigned-unencrypted-0x3099ff1238852b9f-autocrypt.eml", "", none, vNone, nil, ""},
		{"thunderbird-openpgp/unsigned-unencrypted-from-bob-to-alice.eml", "", none, vNone, nil, ""},

		// autocrypt-spec
		{"autocrypt-spec/example-simple-autocrypt.eml", "", none, vNone, nil, ""},
		{"autocrypt-spec/example-gossip.eml", acBob, pgpmime, vExpired, nil, ""},
		{"autocrypt-spec/example-gossip.eml", "carol@autocrypt.example.sec.asc", pgpmime, vExpired, nil, ""},
		{"autocrypt-spec/example-gossip-cleartext.eml", "", none, vNone, nil, ""},
		{"autocrypt-spec/example-draft.eml", acAlice, pgpmime, vNone, nil, ""},
		// Symmetric (Setup Code) only: no list key opens it.
		{"autocrypt-spec/example-setup-message.eml", "", none, vNone, nil, ""},

		// deltachat
		{"deltachat/thunderbird_encrypted_unsigned.eml", dcAlice, pgpmime, vNone, nil, ""},
		// The signer's key travels only in Autocrypt headers: unknown here.
		{"deltachat/thunderbird_encrypted_signed.eml", dcBob, pgpmime, vUnknown, nil, ""},
		{"deltachat/thunderbird_encrypted_unsigned_with_unencrypted_subject.eml", dcBob, pgpmime, vNone, nil, "Hello!"},
		{"deltachat/thunderbird_with_autocrypt_unencrypted.eml", "", none, vUnknown, nil, ""},
		{"deltachat/thunderbird_with_multiple_autocrypts.eml", dcAlice, pgpmime, vGood, nil, ""},
		{"deltachat/rfc1847_encapsulation.eml", dcBob, pgpmime, vGood, nil, ""},
		{"deltachat/encrypted-signed.eml", dcAlice, pgpmime, vGood, nil, ""},
		{"deltachat/alice_to_bob_no_intended_recipient_fingerprint.eml", dcBob, pgpmime, vGood, nil, ""},
		{"deltachat/hp_legacy_display.eml", dcBob, pgpmime, vGood, nil, "Dinner plans"},
		{"deltachat/text_symmetrically_encrypted.eml", "", pgpmime, vNone, mimecrypt.ErrNoKey, ""},
		{"deltachat/unencrypted_signed_simple.eml", "", none, vBad, nil, ""},
		{"deltachat/mailinglist_with_mimepart_footer_signed.eml", "", none, vNone, nil, ""},
		{"deltachat/schleuder.eml", "", none, vBad, nil, ""},

		// notmuch
		{"notmuch/protected-headers__protected-header.eml", nmKey, pgpmime, vNone, nil, "This is a protected header"},
		{"notmuch/protected-headers__subjectless-protected-header.eml", nmKey, pgpmime, vNone, nil, ""},
		{"notmuch/protected-headers__encrypted-signed.eml", nmKey, pgpmime, vGood, nil, ""},
		{"notmuch/protected-headers__encrypted-signed-not-masked.eml", nmKey, pgpmime, vGood, nil, ""},
		{"notmuch/protected-headers__protected-with-legacy-display.eml", nmKey, pgpmime, vGood, nil, ""},
		{"notmuch/protected-headers__signed-protected-header.eml", "", none, vGood, nil, ""},
		{"notmuch/protected-headers__misplaced-protected-header.eml", nmKey, pgpmime, vNone, nil, "Subject Unavailable"},
		{"notmuch/protected-headers__wrapped-protected-header.eml", nmKey, none, vNone, nil, ""},
		{"notmuch/protected-headers__double-wrapped-with-phony-protected-header.eml", nmKey, pgpmime, vNone, nil, "Subject Unavailable"},
		{"notmuch/protected-headers__phony-protected-header-bad-encryption.eml", nmKey, pgpmime, vNone, mimecrypt.ErrMalformed, ""},
		{"notmuch/crypto__simple-encrypted.eml", nmKey, pgpmime, vNone, mimecrypt.ErrNoKey, ""},

		// protected-headers (PGP parts)
		{"protected-headers/pgpmime-signed.eml", "", none, vGood, nil, ""},
		{"protected-headers/pgpmime-sign+enc.eml", phBob, pgpmime, vGood, nil, "BarCorp contract signed, let's go!"},
		{"protected-headers/pgpmime-sign+enc+legacy-disp.eml", phBob, pgpmime, vGood, nil, "BarCorp contract signed, let's go!"},
		{"protected-headers/pgpmime-enc+legacy-disp.eml", phBob, pgpmime, vNone, nil, "BarCorp contract signed, let's go!"},
		{"protected-headers/pgpmime-layered.eml", phBob, pgpmime, vGood, nil, "BarCorp contract signed, let's go!"},
		{"protected-headers/pgpmime-layered+legacy-disp.eml", phBob, pgpmime, vGood, nil, "BarCorp contract signed, let's go!"},
		{"protected-headers/unfortunately-complex.eml", phBob, pgpmime, vGood, nil, ""},

		// schleuder
		{"schleuder/encrypted-mime__thunderbird.eml", slList, pgpmime, vNone, nil, ""},
		{"schleuder/encrypted+signed-mime__thunderbird.eml", slList, pgpmime, vGood, nil, ""},
		{"schleuder/encrypted+signed-inline__thunderbird.eml", slList, inline, vGood, nil, ""},
		{"schleuder/signed-mime__thunderbird.eml", "", none, vGood, nil, ""},
		{"schleuder/signed-inline__thunderbird.eml", "", none, vGood, nil, ""},
		{"schleuder/multipart-alternative__thunderbird-multi-alt-signed.eml", "", none, vGood, nil, ""},
		{"schleuder/protected-headers.eml", slList, pgpmime, vNone, nil, "Re: the real subject"},
		{"schleuder/mutt_protected_headers.eml", slList, pgpmime, vNone, nil, "x"},
		{"schleuder/exchange.eml", slList, pgpmime, vNone, nil, ""},
		// SOURCES: good (admin@a). The sender key is RSA-1024, which the
		// OpenPGP policy refuses as too weak: bad, and the sender is told why.
		{"schleuder/encapsulated.eml", slEncList, pgpmime, vBad, nil, ""},
		{"schleuder/encrypted-to-absent-key.eml", slList, pgpmime, vNone, mimecrypt.ErrNoKey, ""},
		{"schleuder/encrypted-to-passphrase.eml", slList, pgpmime, vNone, mimecrypt.ErrNoKey, ""},
	}
	// Reasons the sender must be given, by file.
	reasons := map[string]string{
		"schleuder/encapsulated.eml": "weak algorithm",
		"thunderbird-openpgp/signed-by-0xfbfcc82a015e7330-encrypted-to-0xf231550c4f47e38e-multi-from.eml": "2 From header fields",
		"thunderbird-openpgp/rc-openpgp-nomdc.eml":                                                        "integrity",
		"thunderbird-openpgp/outer-pgp-sig-inner-pgp-enc-with-mixed.eml":                                  "does not verify",
		"autocrypt-spec/example-gossip.eml":                                                               "expired",
		"thunderbird-openpgp/partial-encrypt-for-alice-plaintext.eml":                                     "only part",
		"notmuch/protected-headers__wrapped-protected-header.eml":                                         "below its top level",
	}
	keys := map[string][2]openpgp.EntityList{}
	for _, tt := range tests {
		name := tt.file
		if tt.listKey != "" {
			name += "@" + tt.listKey
		}
		t.Run(name, func(t *testing.T) {
			source := filepath.Dir(tt.file)
			if _, ok := keys[source]; !ok {
				sec, all := corpusKeys(t, corpus, source)
				keys[source] = [2]openpgp.EntityList{sec, all}
			}
			list, all := keys[source][0], keys[source][1]
			if tt.listKey != "" {
				list = readKeyFile(t, filepath.Join(corpus, source, "keys", tt.listKey))
			}
			raw, err := os.ReadFile(filepath.Join(corpus, source, "msgs", filepath.Base(tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			// Some messages are signed by the key that opens them (sent to
			// oneself): that key is a bound sender as well.
			res, err := Open(raw, OpenOptions{ListKeys: list, Senders: boundByUserIDs(append(slices.Clip(all), list...)), Now: corpusNow})
			if tt.err == nil && err != nil {
				t.Fatalf("Open: %v", err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("Open error = %v, want %v", err, tt.err)
			}
			if res == nil {
				t.Fatal("Open returned no result")
			}
			if res.Encryption != tt.enc || res.Verdict != tt.verdict {
				t.Errorf("got %s/%s (%s), want %s/%s", res.Encryption, res.Verdict, res.Reason, tt.enc, tt.verdict)
			}
			if want := reasons[tt.file]; want != "" && !strings.Contains(res.Reason, want) {
				t.Errorf("reason %q does not say %q", res.Reason, want)
			}
			if res.Verdict != vGood && res.Verdict != vNone && res.Reason == "" {
				t.Errorf("verdict %s without a reason", res.Verdict)
			}
			if res.Verdict == vGood && (res.SignerFingerprint == "" || len(res.SignerAddresses) == 0) {
				t.Errorf("good verdict without signer: %q %v", res.SignerFingerprint, res.SignerAddresses)
			}
			if tt.err != nil && res.Reason == "" {
				t.Errorf("error without a reason for the sender")
			}
			if tt.enc != none && tt.err == nil {
				m, err := rawmime.Parse(res.Message)
				if err != nil {
					t.Fatalf("opened message does not parse: %v", err)
				}
				if mt, _, _ := m.MediaType(); mt == "multipart/encrypted" && tt.file != "notmuch/protected-headers__double-wrapped-with-phony-protected-header.eml" {
					t.Errorf("opened message is still multipart/encrypted")
				}
				if tt.subject != "" && m.Fields.Get("Subject") != tt.subject {
					t.Errorf("opened Subject = %q, want %q", m.Fields.Get("Subject"), tt.subject)
				}
			}
			if tt.enc == none && string(res.Message) != string(raw) {
				t.Errorf("a message that was not decrypted must come back unchanged")
			}
		})
	}
}
