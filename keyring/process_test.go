package keyring

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// TestMain lets the test binary act as a second Cloister process.
func TestMain(m *testing.M) {
	if path := os.Getenv("KEYRING_TEST_ADD"); path != "" {
		os.Exit(childAdd(path, os.Getenv("KEYRING_TEST_ADDR"), os.Getenv("KEYRING_TEST_KEY")))
	}
	if path := os.Getenv("KEYRING_TEST_UNLOCK"); path != "" {
		os.Exit(childUnlock(path, os.Getenv("KEYRING_TEST_ADDR")))
	}
	// The tests seal at the least cost open accepts (t=1, 8 MiB): a third
	// of the package's time was the production cost's derivations.
	// TestProductionSealCost checks the production cost and puts it back
	// for what it seals.
	sealCost = testSealCost
	os.Exit(m.Run())
}

// childUnlock unlocks a list's OpenPGP key in the keyring at path, as a
// runner started for one entry does first.
func childUnlock(path, list string) int {
	if err := unlockList(path, list); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// unlockList opens the keyring at path and unlocks list's OpenPGP key.
func unlockList(path, list string) error {
	k, err := Open(path, testPassphrase, nil)
	if err != nil {
		return err
	}
	_, err = k.ListKeyPGP(list)
	return err
}

// childAdd adds a key file to the keyring at path, as the CLI would.
func childAdd(path, addr, keyFile string) int {
	k, err := Open(path, nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := os.ReadFile(keyFile)
	if err == nil {
		_, err = k.AddOpenPGP(addr, b, false)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestOtherProcessWrites has separate processes add keys while this one
// keeps looking keys up from its snapshot: each lookup after a child exits
// sees that child's key.
func TestOtherProcessWrites(t *testing.T) {
	k := newKeyring(t)
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	dir := t.TempDir()
	for i := range 3 {
		addr := fmt.Sprintf("p%d@subs.test", i)
		e, err := openpgp.NewEntity("P", "", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := armorEntity(e)
		file := fmt.Sprintf("%s/%d.asc", dir, i)
		os.WriteFile(file, pub, 0o600)
		if _, err := k.EncryptionKeyPGP(addr, time.Now()); !errors.Is(err, ErrNoKey) {
			t.Fatalf("before the child: %v", err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "KEYRING_TEST_ADD="+k.Path(), "KEYRING_TEST_ADDR="+addr, "KEYRING_TEST_KEY="+file)
		// Lookups keep running while the child writes.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					k.EncryptionKeyPGP("p0@subs.test", time.Now())
				}
			}
		}()
		out, err := cmd.CombinedOutput()
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		got, err := k.EncryptionKeyPGP(addr, time.Now())
		if err != nil || Fingerprint(got) != Fingerprint(e) {
			t.Fatalf("after the child added %s: %v", addr, err)
		}
	}
}

// TestConcurrentLookups looks the same keys up from several goroutines
// (run with -race: parsed keys are shared).
func TestConcurrentLookups(t *testing.T) {
	k := newKeyring(t)
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	var addrs []string
	for i := range 8 {
		addr := fmt.Sprintf("c%d@subs.test", i)
		e, _ := openpgp.NewEntity("C", "", addr, cfg)
		pub, _ := armorEntity(e)
		if _, err := k.AddOpenPGP(addr, pub, false); err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, addr)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				for _, a := range addrs {
					e, err := k.EncryptionKeyPGP(a, time.Now())
					if err != nil {
						errs <- err
						return
					}
					k.Senders().SenderKeys(e.PrimaryKey.KeyId)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestReplacedFile replaces keyring.db behind a reader's back (as a restore
// would, without touching the generation file): the reader's next check of
// the files notices it.
func TestReplacedFile(t *testing.T) {
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	a := newKeyring(t)
	other := newKeyring(t)
	e, _ := openpgp.NewEntity("R", "", "r@subs.test", cfg)
	pub, _ := armorEntity(e)
	if _, err := other.AddOpenPGP("r@subs.test", pub, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.EncryptionKeyPGP("r@subs.test", time.Now()); !errors.Is(err, ErrNoKey) {
		t.Fatalf("before: %v", err)
	}
	b, err := os.ReadFile(other.Path())
	if err != nil {
		t.Fatal(err)
	}
	tmp := a.Path() + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, a.Path()); err != nil {
		t.Fatal(err)
	}
	a.gen.mu.Lock()
	a.gen.checked = time.Time{} // as if a second had passed
	a.gen.mu.Unlock()
	if _, err := a.EncryptionKeyPGP("r@subs.test", time.Now()); err != nil {
		t.Fatalf("after the file was replaced: %v", err)
	}
}
