package keyring

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// BenchmarkUnlock measures what a runner pays once per process for the
// list key: the Argon2id derivation (at the production cost, not the
// tests' lowered one), AES-GCM and parsing the secret key.
func BenchmarkUnlock(b *testing.B) {
	path := listKeyring(b)
	for b.Loop() {
		if err := unlockList(path, "team@lists.test"); err != nil {
			b.Fatal(err)
		}
	}
}

// listKeyring returns the path of a keyring holding the OpenPGP key of
// team@lists.test, sealed at the production cost.
func listKeyring(b *testing.B) string {
	sealCost = productionSealCost
	b.Cleanup(func() { sealCost = testSealCost })
	k := newKeyring(b)
	if _, err := k.GenerateOpenPGP("team@lists.test", "", ""); err != nil {
		b.Fatal(err)
	}
	return k.Path()
}

// BenchmarkUnlockNewProcess measures the list key's unlock in a process
// of its own, as each `runner --once` and each CLI command that signs pays
// it: the Argon2id derivation's memory is then fresh from the kernel
// (touchKDFMemory). An op is a whole process; it reports the child's page
// faults and system time per op beside it.
func BenchmarkUnlockNewProcess(b *testing.B) {
	path := listKeyring(b)
	var faults int64
	var sys time.Duration
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "KEYRING_TEST_UNLOCK="+path, "KEYRING_TEST_ADDR=team@lists.test")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("unlock in a new process: %v: %s", err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		faults += ru.Minflt
		sys += time.Duration(ru.Stime.Nano())
	}
	b.ReportMetric(float64(faults)/float64(b.N), "faults/op")
	b.ReportMetric(float64(sys.Milliseconds())/float64(b.N), "sys-ms/op")
}

// BenchmarkLookupPGP measures one subscriber key lookup in a keyring of
// 1,000 Curve25519 keys, as the outgoing runner makes per subscriber
// (snapshot current, key judged at now).
func BenchmarkLookupPGP(b *testing.B) {
	const n = 1000
	k := filledKeyring(b, n)
	now := time.Now()
	for i := range n { // warm: parse each key once, as the first fan-out does
		k.EncryptionKeyPGP(fmt.Sprintf("s%d@subs.test", i), now)
	}
	i := 0
	for b.Loop() {
		if _, err := k.EncryptionKeyPGP(fmt.Sprintf("s%d@subs.test", i%n), now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFirstLookupParallel measures the first lookup of each of 1,000
// Curve25519 keys (parsing and checking its self-signatures) made by as
// many workers as the outgoing runner starts (GOMAXPROCS), as the first
// fan-out after a runner starts makes them. Each op is the whole 1,000.
func BenchmarkFirstLookupParallel(b *testing.B) {
	const n = 1000
	k := filledKeyring(b, n)
	now := time.Now()
	workers := runtime.GOMAXPROCS(0)
	for b.Loop() {
		b.StopTimer()
		k.mu.Lock()
		k.parsed = map[string]*parsedPGP{}
		k.mu.Unlock()
		next := make(chan int, n)
		for i := range n {
			next <- i
		}
		close(next)
		b.StartTimer()
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					if _, err := k.EncryptionKeyPGP(fmt.Sprintf("s%d@subs.test", i), now); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkReloadSnapshot measures reading a keyring of 1,000 and of
// 10,000 keys into a snapshot (every record), as a process does on its
// first lookup and after another process wrote to the keyring.
func BenchmarkReloadSnapshot(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			k := filledKeyring(b, n)
			for b.Loop() {
				k.mu.Lock()
				k.snap = nil
				k.mu.Unlock()
				if _, err := k.current(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// filledKeyring returns a keyring holding n Curve25519 subscriber keys, for
// s0@subs.test to s(n-1)@subs.test.
func filledKeyring(b *testing.B, n int) *Keyring {
	b.Helper()
	k := newKeyring(b)
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	for i := range n {
		addr := fmt.Sprintf("s%d@subs.test", i)
		e, err := openpgp.NewEntity("S", "", addr, cfg)
		if err != nil {
			b.Fatal(err)
		}
		pub, _ := armorEntity(e)
		if _, err := k.AddOpenPGP(addr, pub, false); err != nil {
			b.Fatal(err)
		}
	}
	return k
}

// armorEntity serializes e's public key, armored.
func armorEntity(e *openpgp.Entity) ([]byte, error) {
	var pub []byte
	buf := &byteWriter{&pub}
	if err := e.Serialize(buf); err != nil {
		return nil, err
	}
	return armorKey(pub)
}

type byteWriter struct{ b *[]byte }

func (w *byteWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }
