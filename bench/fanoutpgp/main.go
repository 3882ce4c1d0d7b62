// Command fanoutpgp compares, on one machine and in one run, Cloister's
// outgoing OpenPGP path (sign once, encrypt once, one key packet per
// subscriber copy) with GnuPG run the way a script would: one `gpg -e -s -r`
// process per subscriber, and one gpg call with every recipient. It prints
// recipients per second for each and the ratios. bench/fanout-pgp.sh runs it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt/pgp"
)

func main() {
	n := flag.Int("n", 1000, "subscribers")
	algo := flag.String("algo", "cv25519", "subscriber keys: cv25519 or rsa3072")
	size := flag.Int("size", 50<<10, "post size in bytes")
	sample := flag.Int("gpg-sample", 100, "subscribers timed with one gpg process each (the rate is per subscriber)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of Cloister's path to this file")
	flag.Parse()

	dir, err := os.MkdirTemp("", "fanoutpgp-")
	check(err)
	defer os.RemoveAll(dir)
	defer exec.Command("gpgconf", "--homedir", dir, "--kill", "all").Run()

	fmt.Printf("fan-out of a %d KB post to %d %s subscribers, %d CPUs\n", *size>>10, *n, *algo, runtime.NumCPU())
	t0 := time.Now()
	listKey, err := openpgp.NewEntity("team", "", "team@lists.test", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	check(err)
	subs := make([]*openpgp.Entity, *n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i := range subs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
			if *algo == "rsa3072" {
				cfg = &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 3072}
			}
			e, err := openpgp.NewEntity(fmt.Sprintf("sub%d", i), "", fmt.Sprintf("sub%05d@subs.test", i), cfg)
			check(err)
			subs[i] = e
		}()
	}
	wg.Wait()
	fmt.Printf("  (keys made in %.1fs)\n", time.Since(t0).Seconds())

	post := []byte("Content-Type: text/plain; charset=utf-8\n\n")
	for len(post) < *size {
		post = append(post, "a line of the post to be fanned out, fifty bytes..\n"...)
	}

	// Cloister: sign once, encrypt once, one copy per subscriber.
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	start := time.Now()
	sealed, err := pgp.Seal(post, listKey, &packet.Config{})
	check(err)
	for _, s := range subs {
		check(sealed.WriteFor(io.Discard, s))
	}
	cloister := float64(*n) / time.Since(start).Seconds()
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	fmt.Printf("  cloister (sign once, encrypt once, %d copies, one core): %9.0f recipients/s\n", *n, cloister)

	// GnuPG: import the list secret key and every subscriber key.
	var keys bytes.Buffer
	w, _ := armor.Encode(&keys, "PGP PRIVATE KEY BLOCK", nil)
	check(listKey.SerializePrivate(w, nil))
	w.Close()
	gpg(dir, keys.Bytes(), "--import")
	keys.Reset()
	w, _ = armor.Encode(&keys, "PGP PUBLIC KEY BLOCK", nil)
	for _, s := range subs {
		check(s.Serialize(w))
	}
	w.Close()
	gpg(dir, keys.Bytes(), "--import")
	postFile := filepath.Join(dir, "post.txt")
	check(os.WriteFile(postFile, post, 0o600))

	k := min(*sample, *n)
	start = time.Now()
	for i := 0; i < k; i++ {
		gpg(dir, post, "--encrypt", "--sign", "--armor", "--local-user", "team@lists.test", "--recipient", fmt.Sprintf("sub%05d@subs.test", i))
	}
	perProc := float64(k) / time.Since(start).Seconds()
	fmt.Printf("  gpg, one process per subscriber (%d timed):           %9.0f recipients/s\n", k, perProc)

	args := []string{"--encrypt", "--sign", "--armor", "--local-user", "team@lists.test"}
	for i := range subs {
		args = append(args, "--recipient", fmt.Sprintf("sub%05d@subs.test", i))
	}
	start = time.Now()
	gpg(dir, post, args...)
	allInOne := float64(*n) / time.Since(start).Seconds()
	fmt.Printf("  gpg, one call with all %d recipients:                %9.0f recipients/s\n", *n, allInOne)
	fmt.Printf("  ratios: cloister / gpg per subscriber = %.0fx; cloister / gpg all recipients = %.1fx\n", cloister/perProc, cloister/allInOne)
	fmt.Println("  (gpg with all recipients makes one message that names every subscriber: it leaks the roster and is not what Cloister sends)")
}

func gpg(home string, stdin []byte, args ...string) []byte {
	all := append([]string{"--homedir", home, "--batch", "--yes", "--no-tty", "--trust-model", "always", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)
	cmd := exec.Command("gpg", all...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "gpg %s: %v\n%s", strings.Join(args[:min(len(args), 6)], " "), err, errOut.String())
		os.Exit(1)
	}
	return out.Bytes()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
