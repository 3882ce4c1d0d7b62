package distribute

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/mimecrypt/pgp"
	"cloister/queue"
)

// listKeyOnly is the site's keys of a list that has only an OpenPGP key,
// and one subscriber with a key.
type listKeyOnly struct {
	list, sub *openpgp.Entity
	subAddr   string
	smimeAsks *int   // counts ListSMIME calls when not nil
	certAddr  string // the one subscriber with a certificate (and no OpenPGP key)
}

func (k listKeyOnly) ListPGP(string) (*openpgp.Entity, error) { return k.list, nil }
func (k listKeyOnly) ListSMIME(string) (*x509.Certificate, crypto.Signer, []*x509.Certificate, error) {
	if k.smimeAsks != nil {
		*k.smimeAsks++
	}
	return nil, nil, nil, site.ErrNoListKey
}
func (k listKeyOnly) Senders() pgp.KeySource { return nil }
func (k listKeyOnly) SMIMETrust() (*x509.CertPool, []*x509.RevocationList, error) {
	return x509.NewCertPool(), nil, nil
}
func (k listKeyOnly) EncryptionPGP(addr string, _ time.Time) (*openpgp.Entity, error) {
	if addr == k.subAddr {
		return k.sub, nil
	}
	return nil, site.ErrNoListKey
}
func (k listKeyOnly) EncryptionCert(addr string, _ time.Time) (*x509.Certificate, error) {
	if addr != "" && addr == k.certAddr {
		return &x509.Certificate{}, nil
	}
	return nil, site.ErrNoListKey
}
func (k listKeyOnly) Capture(string, []byte) error            { return nil }
func (k listKeyOnly) SigningCerts(string, time.Time) []string { return nil }
func (k listKeyOnly) CertWithdrawn(string) bool               { return false }

func newKey(t *testing.T, addr string, made time.Time) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity("k", "", addr, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519,
		DefaultHash: crypto.SHA256, Time: func() time.Time { return made }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestListKeyMadeAfterNow: a list key made after the outgoing job took its
// time (made or replaced while the post waited in the queue, in the same
// second or later) still signs every copy: the encrypted one, the signed
// one in clear, and the no-key notice, which is never sent unsigned for it.
func TestListKeyMadeAfterNow(t *testing.T) {
	made := time.Date(2026, 11, 2, 10, 0, 1, 0, time.UTC)
	keys := listKeyOnly{list: newKey(t, "team@lists.test", made), sub: newKey(t, "keyed@subs.test", made.AddDate(0, -1, 0)),
		subAddr: "keyed@subs.test"}
	s := &site.Site{Keys: keys}
	post := []byte("From: bob@subs.test\nTo: team@lists.test\nSubject: Minutes\n\nThe minutes.\n")
	tests := []struct {
		name     string
		settings lists.Settings
		own      bool
		rcpt     string
		check    func(t *testing.T, u *Copy)
	}{
		{name: "encrypted copy", own: true, rcpt: "keyed@subs.test", check: func(t *testing.T, u *Copy) {
			if len(u.Parts) == 0 {
				t.Fatal("no encrypted copy")
			}
		}},
		{name: "signed copy in clear", own: true, rcpt: "plain@subs.test", check: func(t *testing.T, u *Copy) {
			if !bytes.Contains(u.Data, []byte("BEGIN PGP SIGNATURE")) {
				t.Fatalf("not signed:\n%s", u.Data)
			}
		}},
		{name: "no-key notice", settings: lists.Settings{PGPDistribEncrypt: "force", SMIMEDistribEncrypt: "no",
			PGPDistribSign: "no", SMIMEDistribSign: "no"}, rcpt: "plain@subs.test", check: func(t *testing.T, u *Copy) {
			if !u.Notice || !bytes.Contains(u.Data, []byte("BEGIN PGP SIGNATURE")) {
				t.Fatalf("notice %v, not signed:\n%s", u.Notice, u.Data)
			}
		}},
	}
	for _, tc := range tests {
		for _, now := range []time.Time{made.Add(-200 * time.Millisecond), made.Add(-time.Hour), made.Add(time.Hour)} {
			t.Run(tc.name+" at "+now.Format(time.StampMilli), func(t *testing.T) {
				list := &lists.List{Address: "team@lists.test", Settings: tc.settings}
				d, err := New(s, list, &queue.Meta{Kind: "post", List: list.Address}, post, nil, now, tc.own)
				if err != nil {
					t.Fatal(err)
				}
				u := &Copy{Rcpts: []string{tc.rcpt}}
				d.Fill(u)
				if u.Err != nil {
					t.Fatalf("Fill: %v", u.Err)
				}
				if strings.Contains(string(u.Data), "The minutes.") && tc.name == "no-key notice" {
					t.Fatal("the notice carries the post")
				}
				tc.check(t, u)
			})
		}
	}
}

// TestSMIMEKeyOnlyWhenUsed: the Distributor asks for the list's S/MIME key
// (whose unlock is an Argon2id derivation), and seals the post with S/MIME,
// only when a copy may be encrypted or signed with S/MIME: for encryption,
// when a recipient has a certificate and no OpenPGP key.
func TestSMIMEKeyOnlyWhenUsed(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	post := []byte("From: bob@subs.test\nTo: team@lists.test\nSubject: Minutes\n\nThe minutes.\n")
	tests := []struct {
		name     string
		settings lists.Settings
		meta     *queue.Meta
		own      bool
		want     int
	}{
		{"OpenPGP only", lists.Settings{PGPDistribEncrypt: "yes", PGPDistribSign: "yes", SMIMEDistribEncrypt: "no", SMIMEDistribSign: "no"},
			&queue.Meta{Kind: "post"}, false, 0},
		{"S/MIME encryption", lists.Settings{PGPDistribEncrypt: "no", PGPDistribSign: "no", SMIMEDistribEncrypt: "yes", SMIMEDistribSign: "no"},
			&queue.Meta{Kind: "post"}, false, 1},
		{"S/MIME signature", lists.Settings{PGPDistribEncrypt: "no", PGPDistribSign: "no", SMIMEDistribEncrypt: "no", SMIMEDistribSign: "yes"},
			&queue.Meta{Kind: "post"}, false, 1},
		// A post that arrived encrypted goes encrypted to every recipient
		// with a key of either kind; S/MIME only when one has a
		// certificate and no OpenPGP key.
		{"arrived encrypted, recipients with OpenPGP keys or none", lists.Settings{PGPDistribEncrypt: "yes", PGPDistribSign: "yes", SMIMEDistribEncrypt: "no", SMIMEDistribSign: "no"},
			&queue.Meta{Kind: "post", Encryption: "pgp-mime", Carries: queue.CarriesPlaintext, Recipients: []string{"ann@subs.test", "cat@subs.test"}}, false, 0},
		{"arrived encrypted, a recipient with a certificate only", lists.Settings{PGPDistribEncrypt: "yes", PGPDistribSign: "yes", SMIMEDistribEncrypt: "no", SMIMEDistribSign: "no"},
			&queue.Meta{Kind: "post", Encryption: "pgp-mime", Carries: queue.CarriesPlaintext, Recipients: []string{"ann@subs.test", "dan@subs.test"}}, false, 1},
		{"S/MIME allowed, no recipient with a certificate", lists.Settings{PGPDistribEncrypt: "yes", PGPDistribSign: "no", SMIMEDistribEncrypt: "yes", SMIMEDistribSign: "no"},
			&queue.Meta{Kind: "post", Recipients: []string{"ann@subs.test", "cat@subs.test"}}, false, 0},
		{"own mail", lists.Settings{PGPDistribEncrypt: "no", PGPDistribSign: "no", SMIMEDistribEncrypt: "no", SMIMEDistribSign: "no"},
			&queue.Meta{Kind: "notice"}, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asks := 0
			keys := listKeyOnly{list: newKey(t, "team@lists.test", now.AddDate(0, -1, 0)), smimeAsks: &asks,
				sub: newKey(t, "ann@subs.test", now.AddDate(0, -1, 0)), subAddr: "ann@subs.test", certAddr: "dan@subs.test"}
			list := &lists.List{Address: "team@lists.test", Settings: tc.settings}
			if _, err := New(&site.Site{Keys: keys}, list, tc.meta, post, nil, now, tc.own); err != nil {
				t.Fatal(err)
			}
			if asks != tc.want {
				t.Fatalf("ListSMIME asked %d times, want %d", asks, tc.want)
			}
		})
	}
}
