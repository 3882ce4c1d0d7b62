package runners

import (
	"bytes"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/archive"
	"cloister/internal/site"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/queue"
)

// archKeys adds archive keys to the in-memory test keys, as the keyring
// package does.
type archKeys struct {
	*memKeys
	key  *openpgp.Entity
	made int
}

func (k *archKeys) ArchiveKey(string) (*openpgp.Entity, error) {
	if k.key == nil {
		return nil, site.ErrNoListKey
	}
	return k.key, nil
}

func (k *archKeys) ArchiveSecretKey(list string) (*openpgp.Entity, error) { return k.ArchiveKey(list) }

func (k *archKeys) GenerateArchiveKey(string) (string, error) {
	if k.key != nil {
		return "", errors.New("already made")
	}
	e, err := openpgp.NewEntity("team archive", "", "team@lists.test",
		&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultHash: crypto.SHA256})
	if err != nil {
		return "", err
	}
	k.key = e
	k.made++
	return "", nil
}

// TestArchivePlainList: a post of a list without encryption is archived as
// it left the pipeline, and Index and Get read it.
func TestArchivePlainList(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Minutes\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\nARCHIVED-BODY\n")
	s.drain(t)
	idx, err := archive.Index(s.Site, "team@lists.test", 0)
	if err != nil || len(idx) != 1 {
		t.Fatalf("index %+v %v", idx, err)
	}
	if e := idx[0]; e.N != 1 || e.Encrypted || e.From != "bob@subs.test" || e.Subject != "[team] Minutes" || e.Date == "" {
		t.Fatalf("summary %+v", e)
	}
	m, err := archive.Get(s.Site, "team@lists.test", 1)
	if err != nil || !bytes.Contains(m.Raw, []byte("ARCHIVED-BODY")) || !bytes.Contains(m.Raw, []byte("List-Id: \"The team\" <team.lists.test>")) {
		t.Fatalf("get: %v\n%s", err, m.Raw)
	}
	if _, err := archive.Get(s.Site, "team@lists.test", 2); !errors.Is(err, archive.ErrNoEntry) {
		t.Fatalf("get 2: %v", err)
	}
	s.setList(t, map[string]string{"archive": "none"})
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Unkept\n\nx\n")
	s.drain(t)
	if idx, _ := archive.Index(s.Site, "team@lists.test", 0); len(idx) != 1 {
		t.Fatalf("archive none kept a post: %d", len(idx))
	}
}

// TestArchiveEncryptedList: the archive of an encrypted list holds no
// plaintext, neither of a post that arrived encrypted nor of one that
// arrived in clear; the archive key is made on first use, and Get returns
// the post decrypted with it.
func TestArchiveEncryptedList(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	keys := &archKeys{memKeys: s.mem}
	s.Keys, s.ArchiveKeys = keys, keys
	const marker = "ARCHIVE-SECRET-41c9"
	inner := []byte("Content-Type: text/plain; charset=utf-8\n\nThe vault code is " + marker + "\n")
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Vault\n",
		inner, true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\nTo: team@lists.test\nSubject: Clear one\n\nclear "+marker+"\n")
	s.drain(t)
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
	if hits := grepTree(t, s.Config.ArchiveDir("team@lists.test"), "Vault"); len(hits) != 0 {
		t.Fatalf("subject on disk: %v", hits)
	}
	if keys.made != 1 {
		t.Fatalf("archive key made %d times", keys.made)
	}
	idx, err := archive.Index(s.Site, "team@lists.test", 0)
	if err != nil || len(idx) != 2 {
		t.Fatalf("index %+v %v", idx, err)
	}
	subjects := idx[0].Subject + "|" + idx[1].Subject
	if !idx[0].Encrypted || !idx[1].Encrypted || !strings.Contains(subjects, "[team] Vault") || !strings.Contains(subjects, "[team] Clear one") {
		t.Fatalf("index %+v", idx)
	}
	for n := 1; n <= 2; n++ {
		m, err := archive.Get(s.Site, "team@lists.test", n)
		if err != nil || !bytes.Contains(m.Raw, []byte(marker)) || !m.Encrypted {
			t.Fatalf("get %d: %v\n%s", n, err, m.Raw)
		}
	}
	// Without archive keys (a keyring that cannot hold them) the index shows
	// no header, get refuses, and nothing new is stored.
	s.Keys, s.ArchiveKeys = keys.memKeys, nil
	if idx, err := archive.Index(s.Site, "team@lists.test", 1); err != nil || len(idx) != 1 || idx[0].N != 2 || idx[0].Subject != "" {
		t.Fatalf("index without the key: %+v %v", idx, err)
	}
	if _, err := archive.Get(s.Site, "team@lists.test", 1); !errors.Is(err, archive.ErrEncrypted) {
		t.Fatalf("get without the key: %v", err)
	}
	os.RemoveAll(s.Config.ArchiveDir("team@lists.test"))
	s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\nTo: team@lists.test\nSubject: Clear two\n\nclear "+marker+"\n")
	s.drain(t)
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
	if !strings.Contains(s.logs.String(), "decision=\"not archived\"") {
		t.Fatalf("no decision logged:\n%s", s.logs)
	}
}

// TestArchiveRetention: archive_keep_days removes old posts as new ones
// are archived.
func TestArchiveRetention(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"archive_keep_days": "30"})
	st := archive.For(s.Site, "team@lists.test")
	old := queue.NewID(time.Now().AddDate(0, 0, -31), "0123456789abcdef")
	if _, err := st.Append(old, []byte("Subject: old\n\nold\n"), nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: New\n\nnew\n")
	s.drain(t)
	es, err := st.Entries()
	if err != nil || len(es) != 1 || strings.HasPrefix(filepath.Base(es[0].Path), old) {
		t.Fatalf("entries %+v %v", es, err)
	}
}

// TestArchiveKeyCannotBeMade: when the archive key cannot be made (a
// keyring opened without its passphrase) the post waits in the archive
// queue and nothing is written to the archive.
func TestArchiveKeyCannotBeMade(t *testing.T) {
	s := newTestSite(t)
	k, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.db"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetKeyring(k)
	s.setList(t, map[string]string{"pgp_distrib_encrypt": "yes"})
	const marker = "NO-KEY-MARKER-5e2"
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Wait\n\n"+marker+"\n")
	s.drain(t)
	if hits := grepTree(t, s.Config.ArchiveDir("team@lists.test"), marker); len(hits) != 0 {
		t.Fatalf("archived in clear: %v", hits)
	}
	if len(s.mailbox(t, "cat@subs.test")) != 1 {
		t.Fatal("the post was not distributed")
	}
	waiting, _ := s.Queue(queue.Archive).Pending(queue.All)
	if len(waiting) != 1 || !strings.Contains(s.logs.String(), "no keyring passphrase") {
		t.Fatalf("archive queue %v; logs:\n%s", waiting, s.logs)
	}
}

// TestArchiveKeyMadeAfterJobTime: the archive key is made on first use,
// by a keyring whose clock is past the job's time (as when the key is made
// in the second after the runner claimed the post); the post is archived
// encrypted all the same, not left failing "no valid self signature".
func TestArchiveKeyMadeAfterJobTime(t *testing.T) {
	s := newTestSite(t)
	k, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.db"), []byte("archive pass"),
		&keyring.Options{Now: func() time.Time { return time.Now().Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	s.SetKeyring(k)
	s.setList(t, map[string]string{"pgp_distrib_encrypt": "yes"})
	const marker = "KEY-LATER-MARKER-93a"
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Later\n\n"+marker+"\n")
	s.drain(t)
	if waiting, _ := s.Queue(queue.Archive).Pending(queue.All); len(waiting) != 0 {
		t.Fatalf("archive queue %v; logs:\n%s", waiting, s.logs)
	}
	idx, err := archive.Index(s.Site, "team@lists.test", 0)
	if err != nil || len(idx) != 1 || !idx[0].Encrypted {
		t.Fatalf("index %+v %v; logs:\n%s", idx, err, s.logs)
	}
	if hits := grepTree(t, s.Config.ArchiveDir("team@lists.test"), marker); len(hits) != 0 {
		t.Fatalf("archived in clear: %v", hits)
	}
	m, err := archive.Get(s.Site, "team@lists.test", 1)
	if err != nil || !bytes.Contains(m.Raw, []byte(marker)) {
		t.Fatalf("get: %v\n%s", err, m.Raw)
	}
}
